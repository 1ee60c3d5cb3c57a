"""A fake Telegram Bot API server on 127.0.0.1, for running real python-telegram-bot against.

Tests push updates in and read back exactly what the bot called. getUpdates is a real long
poll: it holds the request until an update arrives or its timeout passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {
    "id": 7000001,
    "is_bot": True,
    "first_name": "Infopoint",
    "username": "infopoint_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

# PTB sends every form field JSON-encoded except plain strings; these fields are always plain
# strings, so they are never decoded (a text "123" must stay the string "123").
_PLAIN_STRING_FIELDS = frozenset(
    {
        "text",
        "parse_mode",
        "callback_query_id",
        "url",
        "secret_token",
        "language_code",
        "caption",
        "inline_message_id",
    }
)


@dataclass
class Call:
    """One Bot API method call the bot made."""

    method: str
    params: dict[str, Any]
    result: Any = None
    """What the fake answered (a sent message, with its message_id)."""
    content_type: str = ""
    """How the request's body was encoded (JSON, a form, multipart)."""


@dataclass(frozen=True)
class Fault:
    """An error the fake answers one call with, as Telegram does under load or outage."""

    kind: str
    """"http": an error response; "drop": the connection is closed with no response."""
    status: int = 500
    description: str = "Internal Server Error"
    retry_after: int | None = None

    @staticmethod
    def flood_wait(seconds: int = 1) -> Fault:
        return Fault("http", 429, f"Too Many Requests: retry after {seconds}", seconds)

    @staticmethod
    def server_error(status: int = 502) -> Fault:
        return Fault("http", status, "Bad Gateway" if status == 502 else "Internal Server Error")

    @staticmethod
    def dropped() -> Fault:
        return Fault("drop")


@dataclass
class FakeBotApi:
    """The server; ``base_url`` is what the bot gets as INFOPOINT_TELEGRAM__BASE_URL."""

    token: str = "123456:TEST-token"
    calls: list[Call] = field(default_factory=list)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(500))
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _runner: web.AppRunner | None = None
    port: int = 0
    members: dict[int, dict[int, str]] = field(default_factory=dict)
    """chat id -> user id -> status, for getChatMember (anyone else has "left"): "creator",
    "administrator", "member", "restricted", "left" or "kicked"."""
    deleted: set[tuple[int, int]] = field(default_factory=set)
    """(chat id, message id) of messages someone deleted: an edit of one is refused."""
    blocked: set[int] = field(default_factory=set)
    """Chats whose user blocked the bot: sending there fails with 403, as on Telegram."""
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    """method -> faults to answer its next calls with, first first (see ``inject``)."""
    failed: list[Call] = field(default_factory=list)
    """Calls answered with an injected fault: Telegram did not act on them."""
    held: list[Call] = field(default_factory=list)
    """Calls of a ``hold`` method waiting for ``release`` (not acted on while held)."""
    polls: list[tuple[int, list[int]]] = field(default_factory=list)
    """Each getUpdates answered: the offset asked for, and the update_ids sent back."""
    _holding: set[str] = field(default_factory=set)
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        # Cancel a held long poll when the bot hangs up, instead of holding shutdown for it.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # --- what tests do -------------------------------------------------------------------

    async def push(self, update: dict[str, Any], copies: int = 1) -> int:
        """Queue an update for getUpdates; returns its update_id. With ``copies``, the same
        update (same update_id) comes that many times, as Telegram may deliver it."""
        update_id = next(self._update_ids)
        async with self._changed:
            self._updates += [{"update_id": update_id, **update}] * copies
            self._changed.notify_all()
        return update_id

    def text_update(self, user: dict[str, Any], text: str) -> dict[str, Any]:
        """An update (without update_id) of a private text message from ``user``."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
            "from": user,
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return {"message": message}

    def button_update(self, user: dict[str, Any], data: str) -> dict[str, Any]:
        """An update (without update_id) of ``user`` pressing a button carrying ``data``."""
        return {
            "callback_query": {
                "id": f"cq{next(self._message_ids)}",
                "from": user,
                "chat_instance": "42",
                "data": data,
                "message": {
                    "message_id": next(self._message_ids),
                    "date": int(time.time()),
                    "chat": {"id": user["id"], "type": "private"},
                    "from": BOT_USER,
                    "text": "…",
                },
            }
        }

    def group_text_update(
        self, chat_id: int, user: dict[str, Any], text: str, reply_to: int | None = None
    ) -> dict[str, Any]:
        """An update of ``user`` writing in a group, optionally replying to a message there."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "supergroup", "title": "Staff"},
            "from": user,
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        if reply_to is not None:
            message["reply_to_message"] = {
                "message_id": reply_to,
                "date": int(time.time()),
                "chat": message["chat"],
                "from": BOT_USER,
                "text": "…",
            }
        return {"message": message}

    async def send_text(self, user: dict[str, Any], text: str) -> int:
        return await self.push(self.text_update(user, text))

    async def send_group_text(
        self, chat_id: int, user: dict[str, Any], text: str, reply_to: int | None = None
    ) -> int:
        return await self.push(self.group_text_update(chat_id, user, text, reply_to))

    async def press_in_group(
        self, chat_id: int, user: dict[str, Any], data: str, message_id: int
    ) -> int:
        """``user`` pressing a button under the bot's message ``message_id`` in a group."""
        update = self.button_update(user, data)
        update["callback_query"]["message"]["chat"] = {"id": chat_id, "type": "supergroup"}
        update["callback_query"]["message"]["message_id"] = message_id
        return await self.push(update)

    async def press(self, user: dict[str, Any], data: str) -> int:
        return await self.push(self.button_update(user, data))

    def message_ids(self, chat_id: int) -> list[int]:
        """The ids of the messages the bot sent to ``chat_id``, in order."""
        return [
            call.result["message_id"]
            for call in self.calls
            if call.method == "sendMessage"
            and call.params.get("chat_id") == chat_id
            and isinstance(call.result, dict)
        ]

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [call.params for call in self.calls if call.method == method]

    async def wait_for(
        self, method: str, count: int, timeout: float = 15.0
    ) -> list[dict[str, Any]]:
        """Wait until the bot has called ``method`` ``count`` times in all; return those calls."""

        def enough() -> bool:
            return len(self.sent(method)) >= count

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(enough), timeout)
        return self.sent(method)[:count]

    # --- faults ---------------------------------------------------------------------------

    def inject(self, method: str, *faults: Fault) -> None:
        """Answer the next calls of ``method`` with ``faults``, one each, then normally."""
        self.faults.setdefault(method, []).extend(faults)

    def hold(self, method: str) -> None:
        """Keep every call of ``method`` waiting, unanswered and not acted on, until
        ``release``: the moment a crash can strike between a commit and a send."""
        self._holding.add(method)
        self._released.clear()

    def release(self) -> None:
        """Let held calls go on (acted on, unless their client has gone)."""
        self._holding.clear()
        self._released.set()

    async def wait_failed(self, count: int, timeout: float = 15.0) -> list[Call]:
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.failed) >= count), timeout
            )
        return self.failed[:count]

    async def wait_held(self, count: int, timeout: float = 15.0) -> list[Call]:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.held) >= count), timeout)
        return self.held[:count]

    async def _fault(self, request: web.Request, call: Call) -> web.Response | None:
        """The injected answer to this call, if any; None to act on it normally."""
        if call.method in self._holding:
            async with self._changed:
                self.held.append(call)
                self._changed.notify_all()
            await self._released.wait()
            if request.transport is None or request.transport.is_closing():
                return web.Response(status=499)  # the client is gone: Telegram never saw it
            return None
        pending = self.faults.get(call.method)
        if not pending:
            return None
        fault = pending.pop(0)
        async with self._changed:
            self.failed.append(call)
            self._changed.notify_all()
        if fault.kind == "drop":
            if request.transport is not None:
                request.transport.close()  # the client reads no response at all
            return web.Response(status=500)
        body: dict[str, Any] = {
            "ok": False,
            "error_code": fault.status,
            "description": fault.description,
        }
        if fault.retry_after is not None:
            body["parameters"] = {"retry_after": fault.retry_after}
        return web.json_response(body, status=fault.status)

    # --- the Bot API -----------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _read_params(request)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        call = Call(method, params, content_type=request.content_type)
        if (faulted := await self._fault(request, call)) is not None:
            return faulted
        if method != "getUpdates":
            async with self._changed:
                self.calls.append(call)
                self._changed.notify_all()
        try:
            result = await handler(params)
        except _ApiError as error:
            return _error(error.code, error.description)
        call.result = result
        return web.json_response({"ok": True, "result": result})

    async def _api_getMe(self, _params: dict[str, Any]) -> Any:  # noqa: N802
        return BOT_USER

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:  # noqa: N802
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)  # Telegram's default, and its most

        def pending() -> list[dict[str, Any]]:
            return [update for update in self._updates if update["update_id"] >= offset]

        async with self._changed:
            # Confirmed updates (below offset) are gone for good, as on Telegram.
            self._updates = pending()
            if not self._updates and timeout > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait_for(lambda: bool(pending())), timeout)
            sent = pending()[:limit]
            self.polls.append((offset, [update["update_id"] for update in sent]))
            return sent

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:  # noqa: N802
        if int(params["chat_id"]) in self.blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        _check_length(params)
        return self._message(params, text=params.get("text", ""))

    async def _api_getChatMember(self, params: dict[str, Any]) -> Any:  # noqa: N802
        chat, user = int(params["chat_id"]), int(params["user_id"])
        status = self.members.get(chat, {}).get(user, "left")
        member: dict[str, Any] = {
            "status": status,
            "user": {"id": user, "is_bot": False, "first_name": "?"},
        }
        if status == "administrator":
            member |= {
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
            }
        if status == "creator":
            member["is_anonymous"] = False
        if status == "kicked":
            member["until_date"] = 0  # banned for good
        if status == "restricted":
            # Still in the group, muted: may read, may not write.
            member |= {"is_member": True, "until_date": 0} | dict.fromkeys(
                (
                    "can_send_messages",
                    "can_send_audios",
                    "can_send_documents",
                    "can_send_photos",
                    "can_send_videos",
                    "can_send_video_notes",
                    "can_send_voice_notes",
                    "can_send_polls",
                    "can_send_other_messages",
                    "can_add_web_page_previews",
                    "can_change_info",
                    "can_invite_users",
                    "can_pin_messages",
                    "can_manage_topics",
                    "can_edit_tag",
                    "can_react_to_messages",
                ),
                False,
            )
        return member

    async def _api_editMessageText(self, params: dict[str, Any]) -> Any:  # noqa: N802
        _check_length(params)
        if (int(params["chat_id"]), int(params["message_id"])) in self.deleted:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return self._message(
            params, text=params.get("text", ""), message_id=params.get("message_id")
        )

    async def _api_sendDocument(self, params: dict[str, Any]) -> Any:  # noqa: N802
        message = self._message(params)
        message["document"] = {"file_id": "doc1", "file_unique_id": "doc1u", "file_name": "file"}
        return message

    async def _api_answerCallbackQuery(self, _params: dict[str, Any]) -> Any:  # noqa: N802
        return True

    async def _api_setMyCommands(self, _params: dict[str, Any]) -> Any:  # noqa: N802
        return True

    async def _api_deleteWebhook(self, _params: dict[str, Any]) -> Any:  # noqa: N802
        return True

    async def _api_setWebhook(self, _params: dict[str, Any]) -> Any:  # noqa: N802
        return True

    async def _api_leaveChat(self, _params: dict[str, Any]) -> Any:  # noqa: N802
        return True

    def _message(
        self, params: dict[str, Any], *, text: str | None = None, message_id: object = None
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": message_id if isinstance(message_id, int) else next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": params["chat_id"], "type": "private"},
            "from": BOT_USER,
        }
        if text is not None:
            message["text"] = text
        return message


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json() if request.can_read_body else {}
        params.update(body)
        return params
    form = await request.post()
    for key, value in form.items():
        if not isinstance(value, str):
            params[key] = value.file.read()  # an uploaded file (sendDocument)
        elif key in _PLAIN_STRING_FIELDS:
            params[key] = value
        else:
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
    return params


TEXT_LIMIT = 4096
"""Telegram refuses longer texts; the fake counts the text as sent (HTML included), which is
never shorter than what Telegram counts, so a text the fake accepts Telegram accepts too."""


def _check_length(params: dict[str, Any]) -> None:
    if len(params.get("text", "")) > TEXT_LIMIT:
        raise _ApiError(400, "Bad Request: message is too long")


class _ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _error(code: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": code, "description": description}, status=code
    )

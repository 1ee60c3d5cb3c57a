"""Matrix: sync responses become Inbound events; replies go back as ``m.notice`` messages.

The sync loop follows mautrix's syncer: one long-poll at a time, back-off on errors, and the
sync token remembered in the database only after the events it covers were handled, so that
a restart neither answers an event twice (the engine also drops event ids it has seen) nor
misses one. The first sync of a new installation is history: its messages are not answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from nio import (
    AsyncClient,
    InviteMemberEvent,
    LocalProtocolError,
    MegolmEvent,
    RoomEncryptedFile,
    RoomEncryptedImage,
    RoomMemberEvent,
    RoomMessage,
    RoomMessageEmote,
    RoomMessageFile,
    RoomMessageImage,
    RoomMessageNotice,
    RoomMessageText,
    StickerEvent,
    SyncError,
    SyncResponse,
)

from bot.adapters.matrix.rendering import BangCommands, fitted_parts, without_reply_fallback
from bot.adapters.matrix.rooms import RoomSender, send_in_order
from bot.adapters.matrix.session import open_client
from bot.adapters.matrix.staff import MatrixPeople, MatrixStaffBoard, StaffRoom
from bot.adapters.matrix.sync_token import TokenSaver
from bot.adapters.tasks import wait_ended
from bot.core.dialogue import DialogueEngine
from bot.core.messages import Channel, Inbound, Reply, Unreadable
from bot.core.staff import StaffDesk
from bot.settings import MatrixSettings
from bot.storage.cursors import SqlCursors
from bot.storage.pending_replies import SqlPendingReplies
from bot.storage.tickets import SqlTicketStore

log = logging.getLogger(__name__)

SYNC_FILTER: Final = {
    # Without a large timeline limit a burst of messages arrives as a "limited" timeline
    # with the older ones left out.
    "room": {
        "timeline": {"limit": 500},
        "state": {"lazy_load_members": False},
        "ephemeral": {"not_types": ["*"]},
    },
    "presence": {"not_types": ["*"]},
}
ROOMS_AT_ONCE: Final = 16
"""People's rooms handled concurrently; events within one room stay in order."""
MAX_BACKOFF: Final = 60.0
READY_TIMEOUT: Final = 30.0
DIRECT_CHAT_MEMBERS: Final = 2
PICTURES_OR_FILES: Final = (
    RoomMessageImage,
    RoomMessageFile,
    RoomEncryptedImage,
    RoomEncryptedFile,
)


class MatrixAdapter:
    """Runs the bot on Matrix: people in direct chats, staff in the staff room.

    ``connect`` logs in; then register ``people`` and ``board`` with the core and ``start``.
    """

    def __init__(
        self,
        settings: MatrixSettings,
        var_dir: Path,
        engine: DialogueEngine,
        cursors: SqlCursors,
        *,
        staff: StaffDesk | None = None,
        tickets: SqlTicketStore | None = None,
        pending: SqlPendingReplies | None = None,
    ) -> None:
        self._settings = settings
        self._pending = pending
        self._store_dir = var_dir / "matrix"
        self._engine = engine
        self._cursors = cursors
        self._staff = staff
        self._tickets = tickets
        self._task: asyncio.Task[None] | None = None
        self._token_saver: TokenSaver | None = None
        self._rooms_at_once = asyncio.Semaphore(ROOMS_AT_ONCE)
        commands = [name for name, _ in engine.screens.command_descriptions("en")]
        self._commands = BangCommands(commands)
        self.ready = asyncio.Event()
        """Set after the first sync (and once in the staff room, if there is one)."""
        self.people: MatrixPeople | None = None
        self.board: MatrixStaffBoard | None = None
        self._staff_room: StaffRoom | None = None
        self._sender: RoomSender | None = None
        self._left: set[str] = set()

    async def connect(self) -> None:
        """Log in (or restore the saved device) and load the encryption keys."""
        client = await open_client(self._settings, self._store_dir)
        sender = RoomSender(client)
        self._sender = sender
        self.people = MatrixPeople(sender)
        room_id = self._settings.staff_room_id
        if self._staff is not None and self._tickets is not None and room_id:
            self.board = MatrixStaffBoard(sender, room_id, self._tickets, self._staff.screens)
            self._staff_room = StaffRoom(
                self._staff,
                self._tickets,
                sender,
                room_id,
                staff_ids=frozenset(self._settings.staff_ids),
                power_level=self._settings.staff_power_level,
            )
        fingerprint = client.olm.account.identity_keys["ed25519"] if client.olm else "none"
        # What staff compare when they verify the bot's device from their own client.
        log.info(
            "Matrix: signed in as %s, device %s, session key %s",
            client.user_id,
            client.device_id,
            fingerprint,
        )

    async def start(self) -> None:
        """Begin syncing in the background; return once caught up and in the staff room (or
        after ``READY_TIMEOUT``, when the homeserver is slow: syncing goes on regardless)."""
        if self._sender is None:
            await self.connect()
        self._task = asyncio.create_task(self._sync_forever(), name="matrix-sync")
        try:
            await asyncio.wait_for(self.ready.wait(), READY_TIMEOUT)
        except TimeoutError:
            log.warning(
                "Matrix: not caught up after %.0f s (is the bot invited to the staff room?); "
                "going on, syncing in the background",
                READY_TIMEOUT,
            )
            return
        # Room state is known now, so encrypted rooms can be written to.
        await self._resend_undelivered()

    async def stop(self) -> None:
        """Stop syncing (an event being handled is finished first) and close the connection."""
        if self._task is not None:
            self._task.cancel()
            await wait_ended(self._task)
        if self._token_saver is not None:
            await self._token_saver.flush()  # before the database it writes to is closed
        if self._sender is not None:
            await self._sender.client.close()

    @property
    def client(self) -> AsyncClient:
        if self._sender is None:
            raise RuntimeError("the Matrix adapter is not connected")
        return self._sender.client

    @property
    def _cursor(self) -> str:
        return f"matrix:{self.client.user_id}:{self.client.device_id}"

    async def _sync_forever(self) -> None:
        client = self.client
        token = await self._cursors.get(self._cursor)
        self._token_saver = saver = TokenSaver(self._cursors, self._cursor)
        first = True
        backoff = 0.0
        while True:
            try:
                # After a restart, full state: nio keeps no room state between runs.
                answer = await client.sync(
                    timeout=0 if first else self._settings.sync_timeout_seconds * 1000,
                    sync_filter=SYNC_FILTER,
                    since=token,
                    full_state=first or None,
                )
            except (OSError, TimeoutError) as error:
                answer = SyncError(str(error))
            if not isinstance(answer, SyncResponse):
                backoff = min(MAX_BACKOFF, max(1.0, backoff * 2))
                log.warning("Matrix sync failed (%s); retrying in %.0f s", answer, backoff)
                await asyncio.sleep(backoff)
                continue
            backoff = 0.0
            try:
                await self._maintain_keys()
                await self._handle(answer, history=token is None)
            except Exception:
                # The token is not moved on: the same events come again, and those already
                # handled are recognised by their ids.
                log.exception("Matrix: handling a sync failed; syncing again")
                await asyncio.sleep(1.0)
                continue
            token = answer.next_batch
            await saver.save(token)
            first = False
            staff_room = self._staff_room
            # Cards can be posted once the staff room's state has arrived (the sync after the
            # one that accepted its invite).
            if staff_room is None or staff_room.room_id in client.rooms:
                self.ready.set()

    async def _maintain_keys(self) -> None:
        """What nio's sync_forever does between syncs: keep our keys and sessions current."""
        client = self.client
        if client.olm is None:
            return
        if client.should_upload_keys:
            await client.keys_upload()
        async with self._require_sender().crypto:
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())
        await client.send_to_device_messages()

    async def _handle(self, answer: SyncResponse, *, history: bool) -> None:
        for room_id, info in answer.rooms.invite.items():
            await self._on_invite(room_id, info.invite_state)
        if history:
            return  # what was said before this installation first synced is not ours to answer
        work: dict[str, list[Any]] = defaultdict(list)
        own = self.client.user_id
        for room_id, info in answer.rooms.join.items():
            events = info.timeline.events
            if info.timeline.limited and not _joins(own, events):
                log.warning("Matrix: a room's timeline was cut short; older events are skipped")
            for event in events:
                if event.sender != own and _from_a_person(event):
                    work[room_id].append(event)
        await asyncio.gather(*(self._room(room_id, events) for room_id, events in work.items()))

    async def _on_invite(self, room_id: str, state: list[Any]) -> None:
        """Join when invited; people start a direct chat, staff add the bot to their room."""
        own = self.client.user_id
        if not any(isinstance(e, InviteMemberEvent) and e.state_key == own for e in state):
            return
        joined = await self.client.join(room_id)
        if getattr(joined, "room_id", None) != room_id:
            log.warning("Matrix: could not join a room the bot was invited to: %s", joined)

    async def _room(self, room_id: str, events: list[Any]) -> None:
        async with self._rooms_at_once:
            for event in events:
                try:
                    await self._event(room_id, event)
                except Exception:
                    # The error boundary: one bad event never stops the others or the sync.
                    log.exception("handling a Matrix event failed")
                    await self._send(room_id, [self._engine.apology(None)])

    async def _event(self, room_id: str, event: Any) -> None:
        staff_room = self._staff_room
        if staff_room is not None and room_id == staff_room.room_id:
            if isinstance(event, RoomMessageText):
                await staff_room.on_message(event)
            return
        room = self.client.rooms.get(room_id)
        if room is not None and room.member_count > DIRECT_CHAT_MEMBERS:
            await self._leave_group(room_id, room)
            return
        unreadable = None
        text = None
        if isinstance(event, MegolmEvent):
            unreadable = Unreadable.ENCRYPTED
            await self._request_key(event)
        elif isinstance(event, (RoomMessageText, RoomMessageEmote)):
            text = self._commands.typed(without_reply_fallback(event.body))
        elif isinstance(event, PICTURES_OR_FILES):
            unreadable = Unreadable.PICTURE_OR_FILE
        else:
            unreadable = Unreadable.NOT_TEXT
        inbound = Inbound(
            channel=Channel.MATRIX,
            user_id=event.sender,
            event_id=event.event_id,
            received_at=datetime.fromtimestamp(event.server_timestamp / 1000, UTC),
            text=text,
            address=room_id,
            unreadable=unreadable,
        )
        await self._send(room_id, await self._engine.handle(inbound), event.event_id)

    async def _leave_group(self, room_id: str, room: Any) -> None:
        """A room with others besides the person: the bot answers only in direct chats."""
        if room_id in self._left:
            return
        self._left.add(room_id)
        log.info("Matrix: leaving a group room the bot was invited to")
        await self._send(room_id, [self._engine.private_chats_only(None)])
        await self.client.room_leave(room_id)

    async def _request_key(self, event: MegolmEvent) -> None:
        """Ask the sender's devices again for the key; the person is told to resend anyway."""
        log.info("Matrix: could not decrypt an event (session %s)", event.session_id[:8])
        client = self.client
        # nio's request_room_key asks only our own devices; the key is with the sender's.
        request = event.as_key_request(event.sender, client.device_id)
        with contextlib.suppress(LocalProtocolError):
            await client.to_device(request)

    async def _send(self, room_id: str, replies: list[Reply], event_id: str | None = None) -> None:
        """Send ``replies`` in order and settle what the engine stored for ``event_id``; what
        a passing failure kept from the room stays stored for the next start."""
        parts = [part for reply in replies for part in self._parts(reply)]
        settle = functools.partial(self._settle, event_id)
        await send_in_order(self._require_sender(), room_id, parts, settle, event_id)

    def _parts(self, reply: Reply) -> list[tuple[Reply, dict[str, Any]]]:
        """The events ``reply`` goes out as, each with the part of the reply it carries."""
        return fitted_parts(self._commands.shown(reply))

    async def _settle(self, event_id: str | None, remaining: list[Reply]) -> None:
        if self._pending is not None and event_id is not None:
            await self._pending.settle(Channel.MATRIX, event_id, remaining)

    async def _resend_undelivered(self) -> None:
        """Replies a crash or an outage left stored: sent once the rooms are known."""
        if self._pending is None:
            return
        # The journal counts what is left of an event in the events it goes out as.
        left = await self._pending.undelivered(
            Channel.MATRIX, lambda reply: [part for part, _ in self._parts(reply)]
        )
        for event in left:
            await self._send(event.address, event.replies, event.event_id)
        if left:
            log.info("Matrix: sent the replies of %d events left undelivered", len(left))

    def _require_sender(self) -> RoomSender:
        if self._sender is None:
            raise RuntimeError("the Matrix adapter is not connected")
        return self._sender


def _joins(user_id: str, events: list[Any]) -> bool:
    """Whether the bot joins the room in these events: a new room's history is cut, not lost."""
    return any(
        isinstance(event, RoomMemberEvent)
        and event.state_key == user_id
        and event.membership == "join"
        for event in events
    )


def _from_a_person(event: Any) -> bool:
    """Messages, stickers and undecryptable events; never notices, which are what bots send
    (answering them could start two bots talking to each other forever)."""
    if isinstance(event, RoomMessageNotice):
        return False
    return isinstance(event, (RoomMessage, StickerEvent, MegolmEvent))

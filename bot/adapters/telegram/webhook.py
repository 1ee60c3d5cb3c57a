"""The webhook: Telegram's post of an update is answered only once the update was handled.

PTB's own webhook server answers 200 as soon as it has queued an update, so a crash loses
whatever waits in that queue: Telegram never posts it again. Here the answer waits for the
handling (the event's transaction committed, its replies sent or stored). A crash before that
leaves the post unanswered, Telegram posts the update again after the restart, and the
engine's processed-event table turns an update already handled into a no-op.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Sequence
from typing import Final

import orjson
from aiohttp import web
from telegram import Update
from telegram.ext import Application

log = logging.getLogger(__name__)

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header's name
MAX_CONNECTIONS: Final = 32
"""Posts Telegram makes at once (its default is 40): the people handled at once, as in a
polling batch, within the database's pool."""
MAX_BODY: Final = 1024 * 1024
"""An update is a few kilobytes; a bigger body is not Telegram's."""
SHUTDOWN_GRACE_S: Final = 30.0
"""How long a stop waits for the updates in hand; unanswered ones are posted again."""


class DurableWebhook:
    """Serves ``path`` on ``listen``:``port`` and registers ``url`` with Telegram."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        *,
        listen: str,
        port: int,
        path: str,
        secret: str,
    ) -> None:
        self._application = application
        self._listen = listen
        self._port = port
        self._path = "/" + path.lstrip("/")
        self._secret = secret.encode()
        self._runner: web.AppRunner | None = None

    async def start(self, url: str, allowed_updates: Sequence[str]) -> None:
        """Listen first, then tell Telegram where to post, so no post finds nobody there."""
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self._path, self._on_post)
        self._runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE_S, handle_signals=False
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, self._listen, self._port).start()
        await self._application.bot.set_webhook(
            url,
            allowed_updates=list(allowed_updates),
            secret_token=self._secret.decode(),
            max_connections=MAX_CONNECTIONS,
        )

    async def stop(self) -> None:
        """Stop accepting posts and finish the ones in hand."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _on_post(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            log.warning("refused a webhook post without the right secret token")
            return web.Response(status=403)
        update = await self._read_update(request)
        if update is None:
            # Telegram never sends this; posting it again would not make it readable.
            log.warning("refused a webhook post that is not an update")
            return web.Response(status=400)
        # Shielded: a client hanging up must not cut a transaction or a send in half.
        await asyncio.shield(self._application.process_update(update))
        return web.Response()

    async def _read_update(self, request: web.Request) -> Update | None:
        try:
            data = orjson.loads(await request.read())
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                return None
            return Update.de_json(data, self._application.bot)
        # What PTB raises on a body shaped unlike an update (a date out of range included).
        except (ValueError, TypeError, LookupError, AttributeError, ArithmeticError):
            return None

"""An HTTP gate on 127.0.0.1 in front of a homeserver, which can hold the bot's messages.

Everything is forwarded as it comes, except that after ``hold_sends`` the room messages past
the ones let through are kept unanswered: held before the homeserver sees them (the moment
a test kills the bot between two parts of one reply), or after it posted them (a kill
before the bot learnt that a part went out).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

ROOM_MESSAGE = re.compile(r"^/_matrix/client/[^/]+/rooms/[^/]+/send/m\.room\.message/")
# What aiohttp sets itself, or what describes one hop rather than the message.
HOP_HEADERS = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}
)


@dataclass
class MatrixGate:
    """Forwards requests to ``upstream``; ``hold_sends(after=n)`` lets ``n`` room messages
    through, then holds the rest until ``drop_held``, which answers them 502."""

    upstream: str
    url: str = ""
    forwarded_sends: int = 0
    _sends_left: int | None = None
    _hold_delivered: bool = False
    _held: list[asyncio.Future[None]] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        # Long-polling syncs can outlast aiohttp's default five minutes; the test bounds them.
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        self.drop_held()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    def hold_sends(self, *, after: int, delivered: bool = False) -> None:
        """Let ``after`` more room messages through, then hold every one that follows: before
        the homeserver sees it, or, when ``delivered``, once it has posted it."""
        self._sends_left = after
        self._hold_delivered = delivered

    async def wait_held(self, count: int, timeout: float = 60.0) -> None:
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self._held) >= count), timeout
            )

    def drop_held(self) -> None:
        """Stop holding; what was held is answered 502 and never reaches the homeserver."""
        self._sends_left = None
        for held in self._held:
            if not held.done():
                held.set_result(None)
        self._held.clear()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        held = False
        if ROOM_MESSAGE.match(request.path) and self._sends_left is not None:
            if self._sends_left == 0:
                if not self._hold_delivered:
                    return await self._hold()
                held = True
            else:
                self._sends_left -= 1
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        async with self._session.request(
            request.method,
            f"{self.upstream}{request.path_qs}",
            headers=headers,
            data=await request.read(),
            allow_redirects=False,
        ) as answer:
            body = await answer.read()
            if ROOM_MESSAGE.match(request.path):
                self.forwarded_sends += 1
            if held:
                return await self._hold()
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_HEADERS}
            return web.Response(status=answer.status, headers=kept, body=body)

    async def _hold(self) -> web.Response:
        released = asyncio.get_running_loop().create_future()
        async with self._changed:
            self._held.append(released)
            self._changed.notify_all()
        await released
        return web.Response(status=502, text="held by the test's gate, never sent")

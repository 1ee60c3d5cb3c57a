"""A TCP proxy on 127.0.0.1 that a test can cut, as a database restart cuts every connection."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

COMMIT = b"COMMIT"
"""How psycopg ends a transaction: a simple query with this text."""
ROLLBACK = b"ROLLBACK"


@dataclass
class _Link:
    """One client's connection through the proxy."""

    client: asyncio.StreamWriter
    server: asyncio.StreamWriter
    commit_sent: bool = False
    to_server_flowing: asyncio.Event = field(default_factory=asyncio.Event)
    """Cleared while a ROLLBACK is held back from the server."""


@dataclass
class CuttableProxy:
    """Forwards connections to ``upstream``; ``cut`` drops them all and refuses new ones
    until ``restore``; ``lose_next_commit_answer`` drops one connection at the worst moment;
    ``hold_next_rollback`` keeps one rollback waiting."""

    upstream_host: str
    upstream_port: int
    port: int = 0
    refused: int = 0
    """Connections refused while cut: how often the bot tried to reach the database."""
    commits_lost: int = 0
    rollback_held: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the ROLLBACK that ``hold_next_rollback`` waits for has come, and is held."""
    _cut: bool = False
    _losing_commit: bool = False
    _holding_rollback: bool = False
    _held_link: _Link | None = None
    _server: asyncio.Server | None = None
    _open: set[asyncio.StreamWriter] = field(default_factory=set)
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        # Each connection's pipes end once cut; left running, the test's loop would cancel
        # them at its close and log each as an error.
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=5)

    def cut(self) -> None:
        self._cut = True
        for writer in list(self._open):
            writer.close()
        self._open.clear()

    def restore(self) -> None:
        self._cut = False

    def lose_next_commit_answer(self) -> None:
        """Let the next COMMIT reach the server, then close that connection before the
        server's answer gets back: the transaction is committed, and the client cannot know."""
        self._losing_commit = True

    def hold_next_rollback(self) -> None:
        """Keep the next ROLLBACK from the server until ``release_rollback``: the client
        waits for its answer meanwhile."""
        self._holding_rollback = True

    def release_rollback(self) -> None:
        if self._held_link is not None:
            self._held_link.to_server_flowing.set()
            self._held_link = None

    async def wait_refused(self, count: int, timeout: float = 30.0) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.refused >= count), timeout)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        if handler is None:
            return
        self._handlers.add(handler)
        try:
            await self._forward(reader, writer)
        finally:
            self._handlers.discard(handler)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cut:
            writer.close()
            async with self._changed:
                self.refused += 1
                self._changed.notify_all()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(
                self.upstream_host, self.upstream_port
            )
        except OSError:
            writer.close()
            return
        link = _Link(writer, up_writer)
        link.to_server_flowing.set()
        self._open.update((writer, up_writer))
        await asyncio.gather(
            _pipe(
                reader,
                up_writer,
                lambda data: self._to_server(link, data),
                link.to_server_flowing.wait,
            ),
            _pipe(up_reader, writer, lambda _: self._to_client(link)),
        )
        self._open.difference_update((writer, up_writer))

    def _to_server(self, link: _Link, data: bytes) -> bool:
        if self._losing_commit and COMMIT in data:
            self._losing_commit = False
            link.commit_sent = True
        if self._holding_rollback and ROLLBACK in data:
            self._holding_rollback = False
            self._held_link = link
            link.to_server_flowing.clear()
            self.rollback_held.set()
        return True

    def _to_client(self, link: _Link) -> bool:
        """False, and the link closed, for the answer to a COMMIT that is to be lost."""
        if not link.commit_sent:
            return True
        self.commits_lost += 1
        link.client.close()
        link.server.close()
        return False


async def _pipe(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    forward: Callable[[bytes], bool],
    flowing: Callable[[], Awaitable[object]] | None = None,
) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            if not forward(data):
                return
            if flowing is not None:
                await flowing()
            writer.write(data)
            await writer.drain()
    writer.close()

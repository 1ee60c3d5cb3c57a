"""The per-message transaction on PostgreSQL, begun and ended by psycopg itself.

The message's statements already run on psycopg (direct_sql.py). Around them, SQLAlchemy's
async engine cost each message about 180 µs of the bot's one core more than psycopg alone:
the pool's checkout and checkin, each through a greenlet hop and the pool's events, and the
commit through the same adapters (``bench/engine_cpu.py`` measures it: 1.0 ms a message in
all before). Here a message takes a connection from a small pool of psycopg's own, and
commits or rolls back on it directly.

The connections are made by the engine, so its dialect sets them up as it does any other
(JSON, type loaders), and are then detached from the engine's pool into this one. Disposing
of the engine closes them with its own: ``AsyncEngine.dispose`` runs its listeners inside
SQLAlchemy's greenlet, where they may wait for psycopg.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy.event import listen
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

from bot.storage.direct_sql import DRIVER_ERRORS, TransactionSql
from bot.storage.liveness import is_finished

if TYPE_CHECKING:
    import psycopg

_Held = tuple["psycopg.AsyncConnection[Any]", "psycopg.AsyncCursor[Any]"]
"""A connection with the cursor its statements run on: a cursor keeps the value converters
it looked up for the next statement."""


class DriverTransactions:
    """Transactions on psycopg connections made by ``engine``, at most ``limit`` at once."""

    def __init__(self, engine: AsyncEngine, limit: int) -> None:
        self._engine = engine
        self._idle: list[_Held] = []
        self._slots = asyncio.Semaphore(limit)
        self._settling: set[asyncio.Task[None]] = set()
        listen(engine.sync_engine, "engine_disposed", self._close_idle)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[TransactionSql]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        await self._slots.acquire()
        try:
            held = await self._checkout()
        except BaseException:
            self._slots.release()
            raise
        connection, cursor = held
        try:
            yield TransactionSql.on_driver(self._engine.dialect, cursor)
            await connection.commit()
        except BaseException:
            # In a task of its own: a caller cancelled again while the rollback waits for
            # the server would otherwise leave the connection neither pooled nor closed.
            # Its slot stays taken until then.
            settling = asyncio.ensure_future(self._settle_failed(held))
            self._settling.add(settling)
            settling.add_done_callback(self._settling.discard)
            await asyncio.shield(settling)
            raise
        self._idle.append(held)
        self._slots.release()

    async def _settle_failed(self, held: _Held) -> None:
        """Roll back a transaction that failed; keep its connection if that worked."""
        try:
            if await _rolled_back(held[0]):
                self._idle.append(held)
            else:
                await self._discard_all(held[0])
        finally:
            self._slots.release()

    async def _discard_all(self, broken: psycopg.AsyncConnection[Any]) -> None:
        """Close a connection that broke in use, and the idle ones with it, as SQLAlchemy's
        pool does on a disconnection: what cut one (a restart, a network that dropped
        without a word) most likely cut the others, and the check at checkout sees only a
        server that said goodbye. Each dead one would cost a message an attempt."""
        idle, self._idle = self._idle, []
        for connection in (broken, *(connection for connection, _ in idle)):
            await _close(connection)

    async def _checkout(self) -> _Held:
        """An idle connection the server has not ended, or a new one."""
        while self._idle:
            connection, cursor = self._idle.pop()
            if not is_finished(connection):
                return connection, cursor
            await _close(connection)  # the server restarted, or ended it
        pooled = await self._engine.raw_connection()
        made = pooled.driver_connection
        pooled.detach()
        if made is None:  # for the type checker: a live checkout has one
            raise RuntimeError("the engine's pool gave a connection with no driver")
        return made, made.cursor()

    def _close_idle(self, _engine: object) -> None:
        """The engine's ``engine_disposed`` listener: close the idle connections too."""
        idle, self._idle = self._idle, []
        for connection, _ in idle:
            with contextlib.suppress(*DRIVER_ERRORS):
                await_only(connection.close())


async def _rolled_back(connection: psycopg.AsyncConnection[Any]) -> bool:
    """Roll back what failed; False when the connection is no longer fit to use."""
    if connection.closed or connection.broken:
        return False
    try:
        await connection.rollback()
    except DRIVER_ERRORS:
        return False
    return True


async def _close(connection: psycopg.AsyncConnection[Any]) -> None:
    with contextlib.suppress(*DRIVER_ERRORS):
        await connection.close()

"""The per-message transaction on psycopg's own connections (PostgreSQL): it commits or
rolls back as a whole, keeps its connections for the next message, replaces one the server
ended, holds no more than its limit at once, and is closed with the engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest
from sqlalchemy import bindparam, column, func, select, table, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.database import (
    ENGINE_MAX_OVERFLOW,
    ENGINE_POOL_SIZE,
    MESSAGE_CONNECTIONS,
    create_engine,
)
from bot.storage.direct_sql import TransactionSql
from bot.storage.driver_transactions import DriverTransactions
from tests.fakes.tcp_proxy import CuttableProxy
from tests.test_liveness import ADMIN_URL, terminate

_NOTES = table("driver_notes", column("note"))
_ADD = _NOTES.insert().values(note=bindparam("note"))
_PID = select(func.pg_backend_pid().label("pid"))


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP TABLE IF EXISTS driver_notes"))
        await connection.execute(text("CREATE TABLE driver_notes (note text NOT NULL)"))
    yield engine
    await engine.dispose()


async def notes(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return list(await connection.scalars(text("SELECT note FROM driver_notes ORDER BY note")))


async def pid_in(transactions: DriverTransactions) -> int:
    async with transactions.begin() as sql:
        return int(await sql.scalar(_PID, {}))


async def test_a_transaction_is_kept_whole_or_not_at_all_on_one_connection(
    engine: AsyncEngine,
) -> None:
    transactions = DriverTransactions(engine, limit=4)
    async with transactions.begin() as sql:
        await sql.execute(_ADD, {"note": "kept"})
        first = int(await sql.scalar(_PID, {}))
    with pytest.raises(ZeroDivisionError):
        async with transactions.begin() as sql:
            await sql.execute(_ADD, {"note": "rolled back"})
            _ = 1 / 0
    with pytest.raises(psycopg.errors.NotNullViolation):
        async with transactions.begin() as sql:
            await sql.execute(_ADD, {"note": "before the failed statement"})
            await sql.execute(_ADD, {"note": None})
    assert await notes(engine) == ["kept"]
    # Rolled back, the same connection serves the next message: no new connection per error.
    assert await pid_in(transactions) == first


async def test_a_connection_the_server_ended_while_idle_is_replaced(
    engine: AsyncEngine,
) -> None:
    transactions = DriverTransactions(engine, limit=4)
    first = await pid_in(transactions)
    await asyncio.to_thread(terminate, first)
    async with transactions.begin() as sql:
        await sql.execute(_ADD, {"note": "after the restart"})
        assert int(await sql.scalar(_PID, {})) != first
    assert await notes(engine) == ["after the restart"]


async def test_no_more_connections_than_the_limit_are_in_use_at_once(
    engine: AsyncEngine,
) -> None:
    transactions = DriverTransactions(engine, limit=2)
    in_use: set[int] = set()
    most = 0
    together = asyncio.Barrier(2)  # each waits, holding its connection, for another

    async def message(number: int) -> None:
        nonlocal most
        async with transactions.begin() as sql:
            pid = int(await sql.scalar(_PID, {}))
            in_use.add(pid)
            most = max(most, len(in_use))
            await sql.execute(_ADD, {"note": f"{number:02}"})
            await together.wait()
            in_use.discard(pid)

    await asyncio.gather(*(message(number) for number in range(6)))
    assert most == 2
    assert await notes(engine) == [f"{number:02}" for number in range(6)]


async def test_disposing_of_the_engine_closes_the_idle_connections(
    postgres_url: str,
) -> None:
    engine = create_engine(postgres_url)
    transactions = DriverTransactions(engine, limit=4)
    pid = await pid_in(transactions)
    await engine.dispose()
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        for _ in range(500):  # the server notices the goodbye at once; allow it a moment
            if not admin.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)
            ).fetchone():
                break
            await asyncio.sleep(0.01)
        else:
            pytest.fail("the idle connection outlived the engine")


async def test_statements_on_the_driver_have_no_sqlalchemy_connection() -> None:
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    try:
        async with await psycopg.AsyncConnection.connect(ADMIN_URL) as connection:
            sql = TransactionSql.on_driver(engine.dialect, connection.cursor())
            with pytest.raises(RuntimeError, match="psycopg's connection alone"):
                _ = sql.connection
    finally:
        await engine.dispose()


async def test_a_connection_broken_in_use_takes_the_idle_ones_with_it(
    engine: AsyncEngine,
) -> None:
    """The check at checkout sees only a server that said goodbye; after one connection
    broke in use, the idle ones made before it are not trusted either."""
    transactions = DriverTransactions(engine, limit=4)
    both = asyncio.Barrier(2)

    async def hold_one() -> int:
        async with transactions.begin() as sql:
            await both.wait()  # two connections at once, both idle afterwards
            return int(await sql.scalar(_PID, {}))

    earlier = set(await asyncio.gather(hold_one(), hold_one()))
    with pytest.raises(psycopg.OperationalError):
        async with transactions.begin() as sql:
            pid = int(await sql.scalar(_PID, {}))
            await asyncio.to_thread(terminate, pid)
            await sql.execute(_ADD, {"note": "on a connection the server ended"})
    assert await pid_in(transactions) not in earlier


async def test_a_transaction_cancelled_again_in_its_rollback_gives_its_connection_back(
    postgres_url: str, proxy: CuttableProxy
) -> None:
    """A message cancelled (the bot stopping, say) and cancelled again while its rollback
    waits for the server: the rollback still ends, and the connection is pooled again."""
    engine = create_engine(postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"))
    transactions = DriverTransactions(engine, limit=1)
    inside = asyncio.Event()
    pids: list[int] = []

    async def stuck() -> None:
        async with transactions.begin() as sql:
            pids.append(int(await sql.scalar(_PID, {})))
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(stuck())
    await inside.wait()
    proxy.hold_next_rollback()
    task.cancel()
    await proxy.rollback_held.wait()  # the ROLLBACK is on its way, unanswered
    task.cancel()
    await asyncio.wait({task})
    assert task.cancelled()
    proxy.release_rollback()

    try:
        # The one slot is free once the rollback has ended; the connection is the same.
        assert await pid_in(transactions) == pids[0]
    finally:
        await engine.dispose()


async def test_at_its_busiest_the_bot_leaves_the_server_connections_for_others(
    engine: AsyncEngine,
) -> None:
    """Every message connection and the engine's whole pool in use at once still leave the
    server's limit room for migrations, backups and an administrator's psql."""
    headroom = 20
    async with engine.connect() as connection:
        limit = int(await connection.scalar(text("SHOW max_connections")))
        reserved = int(await connection.scalar(text("SHOW superuser_reserved_connections")))
    assert engine.pool.size() == ENGINE_POOL_SIZE  # type: ignore[attr-defined]

    busiest = MESSAGE_CONNECTIONS + ENGINE_POOL_SIZE + ENGINE_MAX_OVERFLOW

    assert busiest + headroom <= limit - reserved

"""The per-message transaction on psycopg's own connections (PostgreSQL): it commits or
rolls back as a whole, keeps its connections for the next message, replaces one the server
ended, holds no more than its limit at once, and is closed with the engine."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Final

import psycopg
import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import (
    Column,
    MetaData,
    String,
    Table,
    bindparam,
    column,
    func,
    select,
    table,
    text,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.database import create_engine
from bot.storage.direct_sql import TransactionSql
from bot.storage.driver_statements import DriverStatements
from bot.storage.driver_transactions import DriverTransactions
from tests.sql_counting import counting_psycopg_statements
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
            sql = TransactionSql.on_driver(
                engine.dialect, DriverStatements(connection, engine.dialect)
            )
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


_SET: Final = _NOTES.update().where(_NOTES.c.note == bindparam("old")).values(note=bindparam("new"))


async def test_the_first_statement_carries_the_begin_and_the_last_the_commit(
    engine: AsyncEngine, postgres_url: str
) -> None:
    """Two queries for a transaction of a read and a write, not four: psycopg, in autocommit
    mode, sends no BEGIN or COMMIT of its own."""
    dsn = postgres_url.replace("+psycopg", "")
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection:
        statements = DriverStatements(connection, engine.dialect)
        for run in ("first", "second"):
            sent: list[str] = []
            sql = TransactionSql.on_driver(engine.dialect, statements)
            with counting_psycopg_statements(sent.append):
                assert await sql.scalar(_PID, {}) == connection.info.backend_pid
                assert connection.info.transaction_status == TransactionStatus.INTRANS
                await sql.execute(_ADD, {"note": run})
                sql.later(_SET, {"old": run, "new": f"{run}, changed"})
                await sql.run_later(ending=True)
            assert connection.info.transaction_status == TransactionStatus.IDLE
            named = [re.sub(r"infopoint_\d+", "infopoint_N", query) for query in sent]
            preparing = [query for query in named if query.startswith("PREPARE")]
            # Prepared once per connection: the read, and the write that ends the transaction.
            assert len(preparing) == (2 if run == "first" else 0)
            assert [query for query in named if not query.startswith("PREPARE")] == [
                "BEGIN; EXECUTE infopoint_N",
                "INSERT INTO driver_notes (note) VALUES (%(note)s)",
                "EXECUTE infopoint_N(%s, %s); COMMIT",
            ]
            with pytest.raises(RuntimeError, match="committed with its last statement"):
                await sql.execute(_ADD, {"note": "after the end"})
    assert await notes(engine) == ["first, changed", "second, changed"]


async def test_after_a_rollback_the_statements_are_prepared_again(engine: AsyncEngine) -> None:
    """psycopg deallocates every prepared statement of a connection when it rolls back one
    whose statements it prepared itself (after five runs of the same text)."""
    transactions = DriverTransactions(engine, limit=1)
    for number in range(6):
        async with transactions.begin() as sql:
            await sql.scalar(_PID, {})
            await sql.execute(_ADD, {"note": f"{number}"})  # prepared by psycopg at the fifth
            sql.later(_SET, {"old": f"{number}", "new": f"note {number}"})
            await sql.run_later(ending=True)
    with pytest.raises(psycopg.errors.NotNullViolation):
        async with transactions.begin() as sql:
            await sql.scalar(_PID, {})
            await sql.execute(_ADD, {"note": None})
    async with transactions.begin() as sql:
        await sql.scalar(_PID, {})
        sql.later(_SET, {"old": "note 0", "new": "note 0, after the rollback"})
        await sql.run_later(ending=True)
    assert (await notes(engine))[0] == "note 0, after the rollback"


async def test_a_string_longer_than_its_column_is_compared_not_refused(
    engine: AsyncEngine, postgres_url: str
) -> None:
    """A forged button may carry anything: a prepared statement's parameter declared as its
    column's VARCHAR(n) takes no length from it, as with psycopg's own parameters."""
    codes = Table("driver_codes", MetaData(), Column("code", String(4)))
    async with engine.begin() as connection:
        await connection.run_sync(codes.metadata.create_all)
        await connection.execute(codes.insert().values(code="ab"))
    found = select(codes.c.code).where(codes.c.code == bindparam("code"))
    transactions = DriverTransactions(engine, limit=1)
    async with transactions.begin() as sql:
        assert await sql.scalar(found, {"code": "x" * 100}) is None  # the first: bracketed
        assert await sql.scalar(found, {"code": "ab"}) == "ab"

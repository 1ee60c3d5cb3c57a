"""The per-message statements that psycopg runs itself (bot/storage/direct_sql.py): the same
rows as through SQLAlchemy, in the same transaction, and a lost server still an outage."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import cast

import pytest
from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.database import create_engine, upgrade
from bot.storage.direct_sql import TransactionSql
from bot.storage.models import MonthTotal, ProcessedEvent
from bot.storage.outages import is_database_outage
from tests.fakes.tcp_proxy import CuttableProxy
from tests.sql_counting import counting_psycopg_statements

EVENTS = cast(Table, ProcessedEvent.__table__)
CLAIM = insert(EVENTS).returning(EVENTS.c.id, EVENTS.c.processed_at, EVENTS.c.pending)
HOLD = (
    update(EVENTS)
    .where(EVENTS.c.id == bindparam("claimed"))
    .values(address=bindparam("address"), pending=bindparam("pending"))
)
NOTE_LINE = (
    update(EVENTS).where(EVENTS.c.id == bindparam("other")).values(staff_line=bindparam("line"))
)
READ = select(EVENTS.c.event_id, EVENTS.c.address, EVENTS.c.pending, EVENTS.c.processed_at).where(
    EVENTS.c.id == bindparam("claimed")
)
NOW = datetime(2026, 11, 21, 22, 15, 30, 123456, tzinfo=UTC)
REPLIES = [{"text": "Привіт — «PESEL» ✓", "options": [["menu:pesel", "PESEL"]], "n": None}]


async def test_statements_give_the_same_rows_on_either_database(database: AsyncEngine) -> None:
    async with database.begin() as connection:
        sql = TransactionSql(connection)
        claimed = await sql.first(
            CLAIM, {"channel": "telegram", "event_id": "42", "processed_at": NOW}
        )
        assert claimed is not None
        assert claimed["pending"] is None
        assert _utc(claimed["processed_at"]) == NOW
        await sql.execute(HOLD, {"claimed": claimed["id"], "address": "7001", "pending": REPLIES})
        # Read back through SQLAlchemy, in the same transaction: what psycopg wrote is there.
        through_sqlalchemy = (await connection.execute(READ, {"claimed": claimed["id"]})).one()
        read_directly = await sql.first(READ, {"claimed": claimed["id"]})
    assert read_directly is not None
    assert dict(read_directly) | {"processed_at": None} == dict(through_sqlalchemy._mapping) | {
        "processed_at": None
    }
    assert read_directly["pending"] == REPLIES  # the JSON came back whole, Cyrillic and all
    assert _utc(read_directly["processed_at"]) == NOW


async def test_json_is_stored_as_text_the_database_reads_as_json(database: AsyncEngine) -> None:
    # orjson writes bytes: psycopg sends them as JSON, but SQLite would keep them as a blob.
    on_sqlite = database.dialect.name == "sqlite"
    inspect = (
        "SELECT typeof(pending), json_extract(pending, '$[0].text')"
        if on_sqlite
        else "SELECT json_typeof(pending), pending->0->>'text'"
    )
    async with database.begin() as connection:
        sql = TransactionSql(connection)
        claimed = await sql.first(
            CLAIM, {"channel": "telegram", "event_id": "43", "processed_at": NOW}
        )
        assert claimed is not None
        await sql.execute(HOLD, {"claimed": claimed["id"], "address": "7001", "pending": REPLIES})
        query = text(f"{inspect} FROM processed_events WHERE id = :claimed")
        stored = (await connection.execute(query, {"claimed": claimed["id"]})).one()
    assert tuple(stored) == ("text" if on_sqlite else "array", "Привіт — «PESEL» ✓")


async def test_what_a_rolled_back_transaction_ran_directly_is_gone(database: AsyncEngine) -> None:
    with pytest.raises(RuntimeError, match="the message failed"):
        async with database.begin() as connection:
            sql = TransactionSql(connection)
            await sql.scalar(CLAIM, {"channel": "telegram", "event_id": "43", "processed_at": NOW})
            raise RuntimeError("the message failed")
    async with database.begin() as connection:
        sql = TransactionSql(connection)
        assert await sql.first(select(EVENTS.c.id).where(EVENTS.c.event_id == "43"), {}) is None
        assert await sql.scalar(select(EVENTS.c.id).where(EVENTS.c.event_id == "43"), {}) is None


async def test_writes_left_for_later_all_land_in_one_statement_on_postgresql(
    database: AsyncEngine,
) -> None:
    async with database.begin() as connection:
        sql = TransactionSql(connection)
        claims = [
            await sql.scalar(CLAIM, {"channel": "telegram", "event_id": name, "processed_at": NOW})
            for name in ("a", "b", "c")
        ]
        sql.later(HOLD, {"claimed": claims[0], "address": "7001", "pending": REPLIES})
        sql.later(NOTE_LINE, {"other": claims[1], "line": 99})
        direct: list[str] = []
        with counting_psycopg_statements(direct.append):
            await sql.run_later()
        # Two writes that share a parameter name with different values cannot merge.
        sql.later(HOLD, {"claimed": claims[1], "address": "7002", "pending": []})
        sql.later(HOLD, {"claimed": claims[2], "address": "7003", "pending": REPLIES})
        apart: list[str] = []
        with counting_psycopg_statements(apart.append):
            await sql.run_later()
        await sql.run_later()  # nothing left: nothing runs
        rows = {
            row.id: (row.address, row.pending, row.staff_line)
            for row in await connection.execute(select(EVENTS).order_by(EVENTS.c.id))
        }
    assert rows == {
        claims[0]: ("7001", REPLIES, None),
        claims[1]: ("7002", [], 99),
        claims[2]: ("7003", REPLIES, None),
    }
    expected = (1, 2) if database.dialect.name == "postgresql" else (0, 0)
    assert (len(direct), len(apart)) == expected


async def test_a_statement_that_needs_sqlalchemys_own_execution_is_refused(
    postgres_url: str,
) -> None:
    """A column default computed in Python would be silently left out by psycopg."""
    await asyncio.to_thread(upgrade, postgres_url)
    engine = create_engine(postgres_url)
    try:
        async with engine.begin() as connection:
            sql = TransactionSql(connection)
            with pytest.raises(ValueError, match="needs SQLAlchemy's execution"):
                # shard's default (0) is a Python-side one.
                await sql.execute(
                    insert(MonthTotal),
                    {"month": "2026-11", "channel": "telegram", "language": "uk", "contacts": 1},
                )
    finally:
        await engine.dispose()


async def test_a_server_lost_between_two_statements_is_an_outage(postgres_url: str) -> None:
    """A restart cuts the connection inside a message's transaction: what psycopg raises
    must read as an outage, so the engine waits it out and handles the message again."""
    await asyncio.to_thread(upgrade, postgres_url)
    proxy = CuttableProxy("127.0.0.1", 5432)
    await proxy.start()
    engine = create_engine(postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"))
    try:
        with pytest.raises(Exception) as ended:  # which error each way shows is checked below
            async with engine.begin() as connection:
                sql = TransactionSql(connection)
                await sql.scalar(
                    CLAIM, {"channel": "telegram", "event_id": "44", "processed_at": NOW}
                )
                proxy.cut()
                with pytest.raises(Exception) as lost:
                    await sql.execute(HOLD, {"claimed": 1, "address": "7001", "pending": []})
                raise lost.value
        # psycopg's own error, from the statement it ran...
        assert is_database_outage(lost.value), repr(lost.value)
        # ...and SQLAlchemy's, from the rollback on the way out, which is what the engine sees.
        assert is_database_outage(ended.value), repr(ended.value)
    finally:
        await engine.dispose()
        await proxy.stop()


def _utc(moment: datetime) -> datetime:
    # SQLite gives the stored UTC time without its zone.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

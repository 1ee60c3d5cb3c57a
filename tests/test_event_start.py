"""An event's first step (bot/storage/event_start.py): the claim and the person's row, in
one statement on PostgreSQL, with the same outcome as the two statements SQLite runs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import event_start, person_rows
from bot.storage.database import create_engine, upgrade
from bot.storage.direct_sql import TransactionSql
from tests.sql_counting import counting_psycopg_statements

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
OLENA = "a1" * 32


async def start(engine: AsyncEngine, event_id: str) -> tuple[int, person_rows.PersonRow] | None:
    """Claim ``event_id`` for Olena in a transaction of its own, her language set to Ukrainian."""
    async with engine.begin() as connection:
        sql = TransactionSql(connection)
        started = await event_start.claim_and_load(sql, "telegram", event_id, OLENA, NOW)
        if started is not None:
            started[1].language = "uk"
            await person_rows.write(sql, started[1], NOW)
            await sql.run_later()
    return started


async def test_an_event_is_claimed_once_and_its_person_made_once(database: AsyncEngine) -> None:
    first = await start(database, "update-1")
    assert first is not None
    first_claim, new = first
    assert (new.key, new.channel, new.language, new.step) == (OLENA, "telegram", "uk", "new")

    assert await start(database, "update-1") is None  # delivered again: nothing to do

    second = await start(database, "update-2")
    assert second is not None
    second_claim, known = second
    assert second_claim > first_claim
    assert (known.id, known.language, known.has_state) == (new.id, "uk", True)
    async with database.connect() as connection:
        people = await connection.scalar(text("SELECT count(*) FROM people"))
        events = await connection.scalar(text("SELECT count(*) FROM processed_events"))
    assert (people, events) == (1, 2)


async def test_on_postgresql_the_claim_and_a_known_person_take_one_statement(
    postgres_url: str,
) -> None:
    await asyncio.to_thread(upgrade, postgres_url)
    engine = create_engine(postgres_url)
    statements: list[str] = []
    try:
        async with engine.connect():
            pass  # SQLAlchemy's first connection asks the server about itself: not counted
        with counting_psycopg_statements(statements.append):
            await start(engine, "first")  # claim and person, a new person's INSERT, writes
            newcomer = len(statements)
            await start(engine, "second")  # claim and person, writes
            await start(engine, "second")  # claimed before: the one statement only
    finally:
        await engine.dispose()
    assert (newcomer, len(statements) - newcomer) == (4, 3)


async def test_the_person_stays_locked_until_the_event_commits(postgres_url: str) -> None:
    # Their row is written back whole at the end, so a staff action on it (closing their
    # ticket) must wait for the event instead of being overwritten by it.
    await asyncio.to_thread(upgrade, postgres_url)
    engine = create_engine(postgres_url)
    try:
        await start(engine, "first")
        async with engine.begin() as event:
            assert await event_start.claim_and_load(
                TransactionSql(event), "telegram", "second", OLENA, NOW
            )
            async with engine.begin() as staff:
                await staff.execute(text("SET LOCAL lock_timeout = '200ms'"))
                with pytest.raises(OperationalError, match="lock timeout"):
                    await staff.execute(
                        text("UPDATE people SET ticket_id = NULL WHERE key = :key"),
                        {"key": OLENA},
                    )
    finally:
        await engine.dispose()

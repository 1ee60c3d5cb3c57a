"""Benchmark: the coordinator's reports over a large, realistic history.

    python -m bench.reports --rows 1000000 --db sqlite
    python -m bench.reports --rows 1000000 --db postgres   (127.0.0.1:5432, a scratch database)

Generates N contacts over 2025-2026 (about 40,000 people a year, seasonal, four languages,
two channels, three quarters of them helped, one answered topic each), then prints JSON:
generation time, the monthly and yearly report times (median of three), and what recording
the contact adds to a message's transaction (median of 500): for the first message of a
contact and for a later one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import statistics
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.ports import ContactNote
from bot.reports.periods import Month, year_months
from bot.reports.queries import build_report
from bot.storage import database
from bot.storage.contacts import month_of
from bot.storage.conversations import SqlConversationStore
from bot.storage.models import MONTH_COUNTS, Contact, MonthTotal, TopicMonth

WARSAW = ZoneInfo("Europe/Warsaw")
PEOPLE_PER_YEAR = 40_000
# More newcomers in late summer and autumn (school year, permits), fewer at Christmas.
MONTH_WEIGHTS = (0.8, 0.85, 0.95, 1.0, 1.0, 0.95, 1.05, 1.2, 1.3, 1.2, 1.0, 0.7)
LANGUAGES = (("uk", 0.55), ("ru", 0.15), ("pl", 0.1), ("en", 0.2))
TOPICS = [f"topic.{number:02d}" for number in range(48)]
BATCH = 20_000
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _contacts(rows: int, rng: random.Random) -> list[dict[str, Any]]:
    people = {
        year: [secrets.token_hex(32) for _ in range(PEOPLE_PER_YEAR)] for year in (2025, 2026)
    }
    # A fifth of 2026's people came back from 2025.
    people[2026][: PEOPLE_PER_YEAR // 5] = people[2025][: PEOPLE_PER_YEAR // 5]
    months = [(year, month) for year in (2025, 2026) for month in range(1, 13)]
    weights = [MONTH_WEIGHTS[month - 1] for _, month in months]
    languages = [language for language, _ in LANGUAGES]
    language_weights = [weight for _, weight in LANGUAGES]
    contacts = []
    for _ in range(rows):
        year, month = rng.choices(months, weights)[0]
        started = datetime(year, month, rng.randint(1, 28), rng.randint(7, 22), tzinfo=WARSAW)
        started = started.astimezone(UTC) + timedelta(minutes=rng.randint(0, 59))
        helped = rng.random() < 0.75
        handed_off = rng.random() < 0.05
        topic = TOPICS[min(47, int(rng.paretovariate(1.2)) - 1)]
        contacts.append(
            {
                "person_key": rng.choice(people[year]),
                "channel": "telegram" if rng.random() < 0.8 else "matrix",
                "language": rng.choices(languages, language_weights)[0],
                "started_at": started,
                "ended_at": started + timedelta(minutes=rng.randint(1, 25)),
                "answered": helped and not handed_off,
                "handed_off": handed_off,
                "helped": helped,
                "topics": [topic] if helped and not handed_off else [],
            }
        )
    return contacts


def _roll_ups(contacts: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The month totals and topic months the bot would have written with these contacts
    (bot/storage/contacts.py; tests/test_reports.py checks the same rules against the bot)."""
    totals: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    topics: Counter[tuple[str, str]] = Counter()
    reached: set[tuple[str, str]] = set()
    helped_in_month: set[tuple[str, str]] = set()
    helped_in_year: set[tuple[str, str]] = set()
    for contact in sorted(contacts, key=lambda row: row["started_at"]):
        month, key = month_of(contact["started_at"], WARSAW), contact["person_key"]
        row = totals[(month, contact["channel"], contact["language"])]
        row["contacts"] += 1
        row["answered"] += contact["answered"] and not contact["handed_off"]
        row["handed_off"] += contact["handed_off"]
        if (month, key) not in reached:
            reached.add((month, key))
            row["reached"] += 1
        if contact["helped"] and (month, key) not in helped_in_month:
            helped_in_month.add((month, key))
            row["beneficiaries"] += 1
            if (month[:4], key) not in helped_in_year:
                helped_in_year.add((month[:4], key))
                row["new_beneficiaries"] += 1
        topics.update((month, topic) for topic in contact["topics"])
    return [
        {"month": month, "channel": channel, "language": language}
        | {name: counts[name] for name in MONTH_COUNTS}
        for (month, channel, language), counts in totals.items()
    ], [
        {"month": month, "topic_id": topic, "contacts": count}
        for (month, topic), count in topics.items()
    ]


async def generate(engine: AsyncEngine, rows: int) -> float:
    rng = random.Random(2026)  # noqa: S311 - synthetic data, not secrets
    started = time.perf_counter()
    contacts = _contacts(rows, rng)
    month_totals, topic_months = _roll_ups(contacts)
    async with engine.begin() as connection:
        for table, values in (
            (Contact, contacts),
            (MonthTotal, month_totals),
            (TopicMonth, topic_months),
        ):
            for first in range(0, len(values), BATCH):
                await connection.execute(insert(table), values[first : first + BATCH])
    return time.perf_counter() - started


async def _median(action: Callable[[], Awaitable[object]], times: int = 3) -> float:
    durations = []
    for _ in range(times):
        started = time.perf_counter()
        await action()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


async def contact_cost(engine: AsyncEngine, samples: int = 500) -> dict[str, float]:
    """Median ms of a message's whole transaction (event id, person, state), with and
    without recording its contact: a person's first message (answered), a later one in the
    same contact, and a later one that brings the contact's first answer (the most writes).
    """
    store = SqlConversationStore(engine)
    now = datetime(2026, 12, 15, 12, tzinfo=UTC)
    answered = ContactNote("uk", ("topic.01",))
    greeting = ContactNote("uk", ())

    async def message(key: str, note: ContactNote | None) -> float:
        started = time.perf_counter()
        async with store.begin() as conversation:
            person = await conversation.claim_and_load("telegram", uuid.uuid4().hex, key, now)
            assert person is not None  # a new event id every time
            await conversation.save_person(person, now)
            if note is not None:
                await conversation.record_contact(key, "telegram", note, now)
        return 1000 * (time.perf_counter() - started)

    # Interleaved, so that drifts in the disk's sync time fall on all alike.
    durations: dict[str, list[float]] = defaultdict(list)
    for _ in range(samples):
        plain, asked, greeted = (secrets.token_hex(32) for _ in range(3))
        durations["first_without"].append(await message(plain, None))
        durations["first"].append(await message(asked, answered))
        await message(greeted, greeting)
        durations["later_without"].append(await message(plain, None))
        durations["later"].append(await message(asked, answered))
        durations["later_first_answer"].append(await message(greeted, answered))
    return {name: statistics.median(values) for name, values in durations.items()}


async def run(rows: int, backend: str) -> dict[str, Any]:
    scratch: str | None = None
    if backend == "postgres":
        scratch = f"infopoint_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{scratch}"')
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{scratch}"
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    try:
        await asyncio.to_thread(database.upgrade, url)
        engine = database.create_engine(url)
        try:
            generation = await generate(engine, rows)
            if backend == "postgres":
                async with engine.begin() as connection:
                    await connection.exec_driver_sql("ANALYZE")
            now = datetime(2026, 12, 31, 12, tzinfo=UTC)

            async def report(months: list[Month]) -> object:
                return await build_report(
                    engine, months, zone=WARSAW, now=now, entries_per_language={"pl": 48}
                )

            monthly = await _median(lambda: report([Month(2026, 10)]))
            yearly = await _median(lambda: report(year_months(2026)))
            costs = await contact_cost(engine)
        finally:
            await engine.dispose()
    finally:
        if scratch is not None:
            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    return {
        "db": backend,
        "rows": rows,
        "generation_s": round(generation, 1),
        "monthly_report_s": round(monthly, 3),
        "yearly_report_s": round(yearly, 3),
        "first_message_without_contact_ms": round(costs["first_without"], 3),
        "added_by_a_new_contact_ms": round(costs["first"] - costs["first_without"], 3),
        "added_by_a_later_message_ms": round(costs["later"] - costs["later_without"], 3),
        "added_by_a_contacts_first_answer_ms": round(
            costs["later_first_answer"] - costs["later_without"], 3
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.rows, args.db)), indent=2))


if __name__ == "__main__":
    main()

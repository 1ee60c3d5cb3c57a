"""The dialogue engine's own cost per message: CPU time and SQL statements, no messenger.

The soak's scripts (questions in four languages, menus) from many people, one message at a
time through ``DialogueEngine.handle`` on PostgreSQL (a database of its own) or SQLite. On a
machine whose two cores are shared by the bot, PostgreSQL and the soak's harness, the CPU the
engine spends per message bounds both the soak's throughput and its latency under load; this
measures it without the harness, the network or the messenger's SDK.

    .venv/bin/python -m bench.engine_cpu --db postgres --messages 5000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.soak_process import fresh_database
from bench.soak_scripts import LANGUAGES, script_for
from bot.app import build_core
from bot.core.messages import Channel, Inbound
from bot.settings import Settings
from tests.sql_counting import counting_psycopg_statements

STEPS = 20
"""Messages in one person's script, as in the soak."""


def settings_for(db: str, folder: Path) -> Settings:
    url = (
        fresh_database("infopoint_engine_cpu")
        if db == "postgres"
        else f"sqlite:///{folder}/engine.db"
    )
    return Settings(
        database={"url": url},  # type: ignore[arg-type]
        var_dir=folder,
        pseudonym_key="44" * 32,  # type: ignore[arg-type]
        office_hours="mon-sun 00:00-23:59",
        flood_messages_per_minute=100_000,
        _env_file=None,  # type: ignore[call-arg]
    )


def inbounds(people: int, start: datetime, run: str) -> list[Inbound]:
    """Everyone's scripts, interleaved: the first step of each person, then the second..."""
    scripts = [
        script_for(LANGUAGES[person % len(LANGUAGES)], STEPS, handoff=False)
        for person in range(people)
    ]
    return [
        Inbound(
            Channel.TELEGRAM,
            str(100_000 + person),
            f"{run}-{person}-{number}",
            start + timedelta(seconds=number * 5, milliseconds=person),
            text=scripts[person][number].text,
            choice=scripts[person][number].choice,
            language_hint=LANGUAGES[person % len(LANGUAGES)],
            address=str(100_000 + person),
        )
        for number in range(STEPS)
        for person in range(people)
    ]


async def measure(db: str, messages: int, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        core = await build_core(settings_for(db, Path(folder)))
        statements: Counter[str] = Counter()

        def count(query: str) -> None:
            statements[" ".join(query.split()[:3])] += 1

        people = max(1, messages // STEPS)
        warm = inbounds(people, datetime.now(UTC) - timedelta(hours=1), "warm")
        # One pass to create everyone and warm the caches; the measured rounds continue
        # their conversations, as most messages of a day do.
        for inbound in warm:
            await core.engine.handle(inbound)
        if db != "postgres":
            event.listen(
                core.database.sync_engine,
                "before_cursor_execute",
                lambda *args: count(str(args[2])),
            )
        rounds: list[tuple[float, float]] = []
        # On PostgreSQL, every statement psycopg is given: SQLAlchemy's, and those of the hot
        # path that psycopg runs itself, which SQLAlchemy's events do not see.
        with counting_psycopg_statements(count):
            for round_number in range(repeat):
                # Each round continues everyone's conversation an hour later: a new contact.
                measured = inbounds(
                    people,
                    datetime.now(UTC) + timedelta(hours=round_number),
                    f"round{round_number}",
                )
                cpu, wall = time.process_time(), time.perf_counter()
                for inbound in measured:
                    await core.engine.handle(inbound)
                rounds.append((time.process_time() - cpu, time.perf_counter() - wall))
        await core.database.dispose()
    n = len(warm)
    cpu_ms = sorted(round(1000 * cpu / n, 3) for cpu, _ in rounds)
    return {
        "db": db,
        "messages_per_round": n,
        # The least is the least disturbed by whatever else the machine was doing.
        "cpu_ms_per_message": cpu_ms[0],
        "cpu_ms_per_message_rounds": cpu_ms,
        "wall_ms_per_message": round(1000 * min(wall for _, wall in rounds) / n, 3),
        "statements_per_message": round(sum(statements.values()) / n / repeat, 2),
        "statements": {
            key: round(value / n / repeat, 2) for key, value in statements.most_common()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--messages", type=int, default=4000, help="in each round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.db, args.messages, args.rounds)), indent=2))


if __name__ == "__main__":
    main()

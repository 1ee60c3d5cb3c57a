"""Soak: the real bot process through the fake Bot API, with faults, against a bare echo bot.

N messages from M people (scripts in four languages: the language picker, questions, menus,
and for one person in ten a hand-off that a simulated staff member answers and closes), in
three phases:

1. capacity: a tenth of the people, ``--concurrency`` of them writing at once, each as soon
   as answered: the most the bot can handle. A bare python-telegram-bot echo bot answers as
   many messages the same way, in turns with the bot (half the people, the echo bot, the
   echo bot again, the other half), for the throughput ratio: measured twenty minutes
   apart, the two would have met different machine speeds;
2. clean: half of the rest, arriving at random at ``--rate`` messages a second: the latency a
   person sees, and whether memory grows;
3. faulted: the others at the same rate, while 429s and 5xx are injected on sendMessage and
   getUpdates, PostgreSQL is restarted, and the bot is killed with SIGKILL once and started
   again.

Then it counts, per chat, the messages that never came and those that came twice. Prints
one JSON object, with ``postgres_commit``: what one COMMIT took on this machine during the
clean phase (see commit_floor.py), the floor under that phase's p99.

    python -m bench.soak --messages 100000 --people 5000 --rate 100

With ``--matrix`` the same runs through a local Synapse instead (soak_matrix.py).

Needs PostgreSQL on 127.0.0.1:5432 and the right to restart it (pg_ctlcluster).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.commit_floor import commit_latency
from bench.soak_matrix import soak_matrix
from bench.soak_people import (
    STAFF_CHAT,
    STAFF_ID,
    Person,
    SoakApi,
    people_for,
    run_paced,
)
from bench.soak_phases import clean_rss, report, run_faulted
from bench.soak_process import BotProcess, bot_settings
from bench.soak_scripts import Step, prepare
from bench.turns import Runs, in_turns
from tests.fakes.telegram_api import Fault

ROOT = Path(__file__).resolve().parent.parent
LATE_REPLIES_S = 10
"""How long the soak waits at the end for replies still on their way."""
PROBE_SPACING_S = 0.1
"""Between two of the clean phase's timed one-row commits: a tenth of the bot's rate."""
KILL_DELAY = random.Random(11)  # noqa: S311 - when to crash the bot, not a secret


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    api = SoakApi()
    await api.start()
    workdir, bot = start_bot(api, "infopoint-soak-", args.log_level)
    await api.wait_for("setMyCommands", 5, timeout=120)
    steps = max(3, args.messages // args.people)
    await prepare(steps)
    sampling = asyncio.Event()
    sampler = asyncio.create_task(bot.sample_memory(sampling))

    first_paced = max(1, args.people // 10)
    first_faulted = first_paced + (args.people - first_paced) // 2
    capacity_people = people_for(0, first_paced, steps)
    capacity, echo = await capacity_against_echo(
        api, bot, workdir, capacity_people, args.concurrency
    )
    samples_before = len(bot.rss_samples)
    # What one durable COMMIT costs meanwhile: the floor under the clean phase's p99.
    probing = threading.Event()
    floor = asyncio.create_task(
        asyncio.to_thread(commit_latency, spacing=PROBE_SPACING_S, until=probing)
    )
    try:
        clean = await run_paced(
            api, people_for(first_paced, first_faulted - first_paced, steps), args.rate
        )
    finally:
        probing.set()
    rss_clean = clean_rss(bot, samples_before)

    faulted_people = people_for(first_faulted, args.people - first_faulted, steps)
    injected = 0

    def inject() -> None:
        nonlocal injected
        api.inject("sendMessage", Fault.flood_wait(1), Fault.server_error(502))
        api.inject("getUpdates", Fault.server_error(500))
        injected += 3

    faulted, events = await run_faulted(
        args, api, faulted_people, bot=bot, inject=inject, kill_delay=KILL_DELAY
    )
    await asyncio.sleep(LATE_REPLIES_S)  # late replies: counted below as delivered, or as lost
    sampling.set()
    await sampler
    await asyncio.to_thread(bot.stop)  # the fake must go on answering while the bot stops
    expected = {user["id"]: sum(counts) for user, _, counts in people_for(0, args.people, steps)}
    received = {chat: len(api.received[chat]) for chat in expected}
    repeated = [api.bodies[chat] for chat, want in expected.items() if received[chat] > want]
    short = [
        {"chat": chat, "received": api.bodies[chat]}
        for chat, want in expected.items()
        if received[chat] < want
    ]
    await api.stop()
    events = {"faults_injected": injected} | events
    phases = (capacity.tally, clean, faulted)
    figures = report(
        args,
        phases,
        faulted_events=events,
        expected=expected,
        received=received,
        bot=bot,
        rss_clean=rss_clean,
        echo=echo.figures(),
        workdir=workdir,
        capacity_cpu=capacity.figures(),
    )
    return figures | {
        "postgres_commit": await floor,
        "chats_with_more_than_expected": repeated[:3],
        "chats_with_fewer_than_expected": short[:3],
        "late_steps": {
            phase: tally.late[:5]
            for phase, tally in zip(("capacity", "clean", "faulted"), phases, strict=True)
        },
    }


def start_bot(api: SoakApi, prefix: str, log_level: str) -> tuple[Path, BotProcess]:
    """``python -m bot run`` against ``api``, in a new folder named ``prefix``..., on a fresh
    database; ``api`` has the staff group's administrator."""
    api.members[STAFF_CHAT] = {STAFF_ID: "administrator"}
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    environment = bot_environment(api, workdir) | {"INFOPOINT_LOG_LEVEL": log_level}
    bot = BotProcess([sys.executable, "-m", "bot", "run"], environment, workdir)
    bot.start()
    return workdir, bot


def bot_environment(api: SoakApi, workdir: Path) -> dict[str, str]:
    """The bot's settings: the fake API, a fresh database, always open, no flood control."""
    return bot_settings(workdir) | {
        "INFOPOINT_TELEGRAM__TOKEN": api.token,
        "INFOPOINT_TELEGRAM__BASE_URL": api.base_url,
        "INFOPOINT_TELEGRAM__STAFF_CHAT_ID": str(STAFF_CHAT),
        "INFOPOINT_TELEGRAM__RATE_LIMIT": "false",
    }


async def capacity_against_echo(
    api: SoakApi, bot: BotProcess, workdir: Path, people: list[Person], concurrency: int
) -> tuple[Runs, Runs]:
    """The capacity phase: ``people`` in two rounds, and a bare PTB echo bot on a fake Bot API
    of its own given as many messages, in turns with them (bench/turns.py)."""
    echo_api = SoakApi()
    await echo_api.start()
    echo_bot = await start_echo_bot(echo_api, workdir)
    ours, echo = Runs(bot, api), Runs(echo_bot, echo_api)
    half = len(people) // 2
    bot_rounds = [people[:half], people[half:]]
    echo_rounds, first = [], 0
    for round_ in bot_rounds:
        messages = sum(len(script) for _, script, _ in round_)
        echo_rounds.append(echo_people(first, messages))
        first += len(echo_rounds[-1])
    try:
        await in_turns(ours, echo, bot_rounds, echo_rounds, concurrency)
    finally:
        await asyncio.to_thread(echo_bot.stop)
        await echo_api.stop()
    return ours, echo


async def start_echo_bot(api: SoakApi, workdir: Path) -> BotProcess:
    """The bare PTB echo bot on ``api``, its log in ``workdir``/echo, once it has started."""
    echo_dir = workdir / "echo"
    echo_dir.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin"), "PYTHONPATH": str(ROOT)}
    echo = BotProcess(
        [sys.executable, "-m", "bench.echo_bot", api.token, api.base_url], env, echo_dir
    )
    echo.start()
    await api.wait_for("getMe", 1, timeout=60)
    return echo


def echo_people(first: int, messages: int) -> list[Person]:
    """People who write 20 plain texts each, ``messages`` in all, numbered from ``first``;
    the echo bot answers each with one message."""
    return [
        (
            {"id": 20_000_000 + index, "is_bot": False, "first_name": "E"},
            [Step(text=f"echo {index} {n}") for n in range(20)],
            [1] * 20,
        )
        for index in range(first, first + max(1, messages // 20))
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument(
        "--concurrency", type=int, default=100, help="people writing at once, for capacity"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=100.0,
        help="messages a second in the clean and faulted phases",
    )
    parser.add_argument(
        "--no-postgres-restart",
        dest="restart_postgres",
        action="store_false",
        help="leave the server alone (when something else is using it)",
    )
    parser.add_argument(
        "--matrix",
        action="store_true",
        help="through a local Synapse (installed on first use) instead of the fake Bot API",
    )
    parser.add_argument("--log-level", default="WARNING", help="the bot's")
    args = parser.parse_args()
    started = datetime.now(UTC)
    result = asyncio.run(soak_matrix(args) if args.matrix else soak(args))
    result["started"] = started.isoformat(timespec="seconds")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""Soak: the real bot process through the fake Bot API, with faults, against a bare echo bot.

N messages from M people (scripts in four languages: the language picker, questions, menus,
and for one person in ten a hand-off that a simulated staff member answers and closes), in
three phases:

1. capacity: a tenth of the people, ``--concurrency`` of them writing at once, each as soon
   as answered: the most the bot can handle. A bare python-telegram-bot echo bot then
   answers as many messages the same way, for the throughput ratio;
2. clean: half of the rest, arriving at random at ``--rate`` messages a second: the latency a
   person sees, and whether memory grows;
3. faulted: the others at the same rate, while 429s and 5xx are injected on sendMessage and
   getUpdates, PostgreSQL is restarted, and the bot is killed with SIGKILL once and started
   again.

Then it counts, per chat, the messages that never came and those that came twice. Prints
one JSON object.

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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.soak_matrix import soak_matrix
from bench.soak_people import (
    STAFF_CHAT,
    STAFF_ID,
    Person,
    SoakApi,
    people_for,
    run_closed,
    run_paced,
    summary,
)
from bench.soak_process import BotProcess, bot_settings, kill_and_restart, restart_postgres
from bench.soak_scripts import Step, prepare
from tests.fakes.telegram_api import Fault

ROOT = Path(__file__).resolve().parent.parent
LATE_REPLIES_S = 10
"""How long the soak waits at the end for replies still on their way."""
KILL_DELAY = random.Random(11)  # noqa: S311 - when to crash the bot, not a secret


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    api = SoakApi()
    await api.start()
    api.members[STAFF_CHAT] = {STAFF_ID: "administrator"}
    workdir = Path(tempfile.mkdtemp(prefix="infopoint-soak-"))
    bot = BotProcess([sys.executable, "-m", "bot", "run"], bot_environment(api, workdir), workdir)
    bot.start()
    await api.wait_for("setMyCommands", 5, timeout=120)
    steps = max(3, args.messages // args.people)
    await prepare(steps)
    sampling = asyncio.Event()
    sampler = asyncio.create_task(bot.sample_memory(sampling))

    first_paced = max(1, args.people // 10)
    first_faulted = first_paced + (args.people - first_paced) // 2
    capacity = await run_closed(api, people_for(0, first_paced, steps), args.concurrency)
    samples_before = len(bot.rss_samples)
    clean = await run_paced(
        api, people_for(first_paced, first_faulted - first_paced, steps), args.rate
    )
    rss_clean = [sample for sample in bot.rss_samples[samples_before:] if sample]
    warm = rss_clean[len(rss_clean) // 10] if rss_clean else 0

    faulted_people = people_for(first_faulted, args.people - first_faulted, steps)
    events: dict[str, Any] = {"faults_injected": 0}
    marks = {int(len(faulted_people) * 0.4): "postgres", int(len(faulted_people) * 0.7): "kill"}

    async def on_progress(done: int) -> None:
        if done % 25 == 0:
            api.inject("sendMessage", Fault.flood_wait(1), Fault.server_error(502))
            api.inject("getUpdates", Fault.server_error(500))
            events["faults_injected"] += 3
        action = marks.pop(done, None)
        if action == "postgres" and args.restart_postgres:
            events["postgres_restart_s"] = round(await asyncio.to_thread(restart_postgres), 2)
        elif action == "kill":
            # Not at this moment: a person just got their last reply, so the bot has a
            # response from the fake unread, every time. A crash is not timed to a delivery.
            kill = asyncio.create_task(kill_and_restart(bot, KILL_DELAY.uniform(0.05, 1.0)))
            kills.add(kill)
            events["killed_and_restarted"] = True

    kills: set[asyncio.Task[None]] = set()
    faulted = await run_paced(api, faulted_people, args.rate, on_progress)
    await asyncio.gather(*kills)
    await asyncio.sleep(LATE_REPLIES_S)  # late replies: counted below as delivered, or as lost
    sampling.set()
    await sampler
    await asyncio.to_thread(bot.stop)  # the fake must go on answering while the bot stops
    expected = {user["id"]: sum(counts) for user, _, counts in people_for(0, args.people, steps)}
    received = {chat: len(api.received[chat]) for chat in expected}
    echo = await echo_yardstick(api, workdir, capacity.steps, args.concurrency)
    await api.stop()
    capacity_summary = summary(capacity)
    return {
        "messages_sent": capacity.steps + clean.steps + faulted.steps,
        "replies_received": sum(received.values()),
        "replies_expected": sum(expected.values()),
        "lost": sum(max(0, want - received[chat]) for chat, want in expected.items()),
        "duplicated": sum(max(0, received[chat] - want) for chat, want in expected.items()),
        "people": args.people,
        "capacity": capacity_summary | {"concurrency": args.concurrency},
        "clean": summary(clean) | {"rate_per_s": args.rate},
        "faulted": summary(faulted) | {"rate_per_s": args.rate} | events,
        "peak_rss_mib": round(max(bot.rss_samples) / 1024, 1),
        "rss_growth_clean_pct": round(100 * (rss_clean[-1] - warm) / warm, 1) if warm else None,
        "echo_bot": echo,
        "throughput_ratio_vs_echo": round(
            capacity_summary["throughput_per_s"] / echo["throughput_per_s"], 2
        ),
        "log": str(workdir / "bot.log"),
    }


def bot_environment(api: SoakApi, workdir: Path) -> dict[str, str]:
    """The bot's settings: the fake API, a fresh database, always open, no flood control."""
    return bot_settings(workdir) | {
        "INFOPOINT_TELEGRAM__TOKEN": api.token,
        "INFOPOINT_TELEGRAM__BASE_URL": api.base_url,
        "INFOPOINT_TELEGRAM__STAFF_CHAT_ID": str(STAFF_CHAT),
        "INFOPOINT_TELEGRAM__RATE_LIMIT": "false",
    }


async def echo_yardstick(
    api: SoakApi, workdir: Path, messages: int, concurrency: int
) -> dict[str, Any]:
    """The same number of text messages through a bare PTB echo bot on the same fake."""
    api.calls.clear()
    echo_dir = workdir / "echo"
    echo_dir.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin"), "PYTHONPATH": str(ROOT)}
    echo = BotProcess(
        [sys.executable, "-m", "bench.echo_bot", api.token, api.base_url], env, echo_dir
    )
    echo.start()
    await api.wait_for("getMe", 1, timeout=60)
    people = max(1, messages // 20)
    crowd: list[Person] = [
        (
            {"id": 20_000_000 + index, "is_bot": False, "first_name": "E"},
            [Step(text=f"echo {index} {n}") for n in range(20)],
            [1] * 20,
        )
        for index in range(people)
    ]
    tally = await run_closed(api, crowd, concurrency)
    await asyncio.to_thread(echo.stop)
    return summary(tally)


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
    args = parser.parse_args()
    started = datetime.now(UTC)
    result = asyncio.run(soak_matrix(args) if args.matrix else soak(args))
    result["started"] = started.isoformat(timespec="seconds")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

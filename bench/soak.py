"""Soak: the real bot process through the fake Bot API, with faults, against a bare echo bot.

N messages from M people (scripts in four languages: the language picker, questions, menus,
and for one person in ten a hand-off that a simulated staff member answers and closes). The
first half runs clean (latency, throughput, memory); the second half injects 429s and 5xx on
sendMessage and getUpdates, restarts PostgreSQL, and kills the bot with SIGKILL once, then
starts it again. A bare python-telegram-bot echo bot then answers the same number of messages
at the same concurrency, for the throughput ratio. Prints one JSON object.

    python -m bench.soak --messages 100000 --people 5000

Needs PostgreSQL on 127.0.0.1:5432 and the right to restart it (pg_ctlcluster).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from bench.soak_scripts import LANGUAGES, Step, expected_counts, prepare, script_for
from tests.fakes.telegram_api import FakeBotApi, Fault

STAFF_CHAT = -100777
STAFF_ID = 501
STAFF: dict[str, Any] = {"id": STAFF_ID, "is_bot": False, "first_name": "Anna"}
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE = "infopoint_soak"
ROOT = Path(__file__).resolve().parent.parent


class SoakApi(FakeBotApi):
    """The fake Bot API that tells each waiting person when a message reached their chat,
    and plays the staff member who answers and closes each new ticket."""

    def __init__(self) -> None:
        super().__init__()
        self.received: dict[int, list[float]] = defaultdict(list)
        self.arrived: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self.tickets_seen: set[int] = set()
        self.staff_tasks: set[asyncio.Task[None]] = set()

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:  # noqa: N802
        result = await super()._api_sendMessage(params)
        chat = int(params["chat_id"])
        if chat == STAFF_CHAT:
            self._on_staff_chat(str(params.get("text", "")))
        else:
            self.received[chat].append(time.perf_counter())
            self.arrived[chat].set()
        self.calls.clear()  # the fake keeps every call; a soak cannot
        return result

    def _on_staff_chat(self, text: str) -> None:
        if not text.startswith("<b>#"):
            return
        number = int(text[4 : text.index("<", 4)])
        if number in self.tickets_seen:
            return
        self.tickets_seen.add(number)
        task = asyncio.create_task(self._answer_ticket(number))
        self.staff_tasks.add(task)
        task.add_done_callback(self.staff_tasks.discard)

    async def _answer_ticket(self, number: int) -> None:
        await self.send_group_text(STAFF_CHAT, STAFF, f"/reply {number} Zapraszamy we wtorek.")
        await self.send_group_text(STAFF_CHAT, STAFF, f"/close {number}")


@dataclass
class Tally:
    """What the people saw."""

    steps: int = 0
    latencies: list[float] = field(default_factory=list)
    timed_out: int = 0
    started: float = field(default_factory=time.perf_counter)
    finished: float = 0.0


async def wait_for_messages(api: SoakApi, chat: int, count: int, within: float) -> bool:
    """Until ``chat`` received ``count`` messages in all; False on timeout."""
    deadline = time.perf_counter() + within
    event = api.arrived[chat]
    while len(api.received[chat]) < count:
        event.clear()
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return False
        try:
            await asyncio.wait_for(event.wait(), remaining)
        except TimeoutError:
            return False
    return True


async def run_person(
    api: SoakApi, user: dict[str, Any], script: list[Step], counts: list[int], tally: Tally
) -> None:
    """One person's script, each step sent once the previous one was fully answered."""
    chat = user["id"]
    for step, expected in zip(script, counts, strict=True):
        before = len(api.received[chat])
        sent_at = time.perf_counter()
        if step.choice is not None:
            await api.press(user, step.choice)
        else:
            await api.send_text(user, step.text or "")
        tally.steps += 1
        if expected == 0:
            continue
        if not await wait_for_messages(api, chat, before + expected, within=90):
            tally.timed_out += 1
            continue
        tally.latencies.append(api.received[chat][before] - sent_at)


async def run_people(
    api: SoakApi,
    people: list[tuple[dict[str, Any], list[Step], list[int]]],
    concurrency: int,
    on_progress: Callable[[int], Awaitable[None]] | None = None,
) -> Tally:
    tally = Tally()
    slots = asyncio.Semaphore(concurrency)
    done = 0

    async def one(person: tuple[dict[str, Any], list[Step], list[int]]) -> None:
        nonlocal done
        async with slots:
            await run_person(api, *person, tally)
        done += 1
        if on_progress is not None:
            await on_progress(done)

    await asyncio.gather(*(one(person) for person in people))
    tally.finished = time.perf_counter()
    return tally


class BotProcess:
    """``python -m bot run`` (or the echo bot), its log in a file, its memory sampled."""

    def __init__(self, argv: list[str], env: dict[str, str], workdir: Path) -> None:
        self.argv, self.env, self.workdir = argv, env, workdir
        self.process: subprocess.Popen[bytes] | None = None
        self.rss_samples: list[int] = []

    def start(self) -> None:
        log = (self.workdir / "bot.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            self.argv, env=self.env, cwd=self.workdir, stdout=log, stderr=log
        )

    def kill_9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(60)

    def rss_kib(self) -> int:
        if self.process is None or self.process.poll() is not None:
            return 0
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1])

    async def sample_memory(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.rss_samples.append(self.rss_kib())
            await asyncio.sleep(1)


def fresh_database() -> str:
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DATABASE}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE}"


def restart_postgres() -> float:
    """Restart the machine's PostgreSQL with Debian's pg_ctlcluster; returns the seconds."""
    version = sorted(path.name for path in Path("/etc/postgresql").iterdir())[-1]
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"]
    started = time.perf_counter()
    subprocess.run(command, check=True)  # noqa: S603 - fixed arguments, Debian's tool
    return time.perf_counter() - started


def people_for(
    first: int, count: int, steps: int
) -> list[tuple[dict[str, Any], list[Step], list[int]]]:
    people = []
    for index in range(first, first + count):
        language = LANGUAGES[index % len(LANGUAGES)]
        handoff = index % 10 == 9
        user = {
            "id": 10_000_000 + index,
            "is_bot": False,
            "first_name": "P",
            "language_code": language,
        }
        script = script_for(language, steps, handoff=handoff)
        people.append((user, script, expected_counts(language, steps, handoff=handoff)))
    return people


def summary(tally: Tally) -> dict[str, Any]:
    latencies = sorted(tally.latencies)
    seconds = tally.finished - tally.started
    return {
        "messages": tally.steps,
        "seconds": round(seconds, 1),
        "throughput_per_s": round(tally.steps / seconds, 1),
        "latency_p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
        "latency_p99_ms": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 1)
        if latencies
        else None,
        "steps_timed_out": tally.timed_out,
    }


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    api = SoakApi()
    await api.start()
    api.members[STAFF_CHAT] = {STAFF_ID: "administrator"}
    workdir = Path(tempfile.mkdtemp(prefix="infopoint-soak-"))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin"),
        "PYTHONPATH": str(ROOT),
        "INFOPOINT_TELEGRAM__TOKEN": api.token,
        "INFOPOINT_TELEGRAM__BASE_URL": api.base_url,
        "INFOPOINT_TELEGRAM__STAFF_CHAT_ID": str(STAFF_CHAT),
        "INFOPOINT_TELEGRAM__RATE_LIMIT": "false",
        "INFOPOINT_DATABASE__URL": fresh_database(),
        "INFOPOINT_PSEUDONYM_KEY": "22" * 32,
        "INFOPOINT_OFFICE_HOURS": "mon-sun 00:00-23:59",
        "INFOPOINT_FLOOD_MESSAGES_PER_MINUTE": "100000",
        "INFOPOINT_LOG_LEVEL": "WARNING",
        "INFOPOINT_VAR_DIR": str(workdir / "var"),
    }
    bot = BotProcess([sys.executable, "-m", "bot", "run"], env, workdir)
    bot.start()
    await api.wait_for("setMyCommands", 5, timeout=120)
    steps = max(3, args.messages // args.people)
    await prepare(steps)
    half = args.people // 2
    sampling = asyncio.Event()
    sampler = asyncio.create_task(bot.sample_memory(sampling))

    clean = await run_people(api, people_for(0, half, steps), args.concurrency)
    rss_clean = [sample for sample in bot.rss_samples if sample]
    warm = rss_clean[len(rss_clean) // 10] if rss_clean else 0

    events: dict[str, Any] = {"faults_injected": 0}
    faulted_people = args.people - half
    marks = {int(faulted_people * 0.4): "postgres", int(faulted_people * 0.7): "kill"}

    async def on_progress(done: int) -> None:
        if done % 25 == 0:
            api.inject("sendMessage", Fault.flood_wait(1), Fault.server_error(502))
            api.inject("getUpdates", Fault.server_error(500))
            events["faults_injected"] += 3
        action = marks.pop(done, None)
        if action == "postgres" and args.restart_postgres:
            events["postgres_restart_s"] = round(await asyncio.to_thread(restart_postgres), 2)
        elif action == "kill":
            bot.kill_9()
            bot.start()
            events["killed_and_restarted"] = True

    faulted = await run_people(
        api, people_for(half, faulted_people, steps), args.concurrency, on_progress
    )
    await asyncio.sleep(10)  # late replies: counted below as delivered, or as lost
    sampling.set()
    await sampler
    bot.stop()
    expected = {user["id"]: sum(counts) for user, _, counts in people_for(0, args.people, steps)}
    lost = sum(max(0, want - len(api.received[chat])) for chat, want in expected.items())
    duplicated = sum(max(0, len(api.received[chat]) - want) for chat, want in expected.items())
    peak = max(bot.rss_samples)
    echo = await echo_yardstick(api, workdir, clean.steps, args.concurrency)
    await api.stop()
    clean_summary = summary(clean)
    return {
        "messages_sent": clean.steps + faulted.steps,
        "replies_received": sum(len(api.received[chat]) for chat in expected),
        "replies_expected": sum(expected.values()),
        "lost": lost,
        "duplicated": duplicated,
        "people": args.people,
        "concurrency": args.concurrency,
        "clean_half": clean_summary,
        "faulted_half": summary(faulted) | events,
        "peak_rss_mib": round(peak / 1024, 1),
        "rss_growth_clean_half_pct": round(100 * (rss_clean[-1] - warm) / warm, 1)
        if warm
        else None,
        "echo_bot": echo,
        "throughput_ratio_vs_echo": round(
            clean_summary["throughput_per_s"] / echo["throughput_per_s"], 2
        ),
        "log": str(workdir / "bot.log"),
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
    crowd = [
        (
            {"id": 20_000_000 + index, "is_bot": False, "first_name": "E"},
            [Step(text=f"echo {index} {n}") for n in range(20)],
            [1] * 20,
        )
        for index in range(people)
    ]
    tally = await run_people(api, crowd, concurrency)
    echo.stop()
    return summary(tally)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=100, help="people writing at once")
    parser.add_argument(
        "--no-postgres-restart",
        dest="restart_postgres",
        action="store_false",
        help="leave the server alone (when something else is using it)",
    )
    args = parser.parse_args()
    started = datetime.now(UTC)
    result = asyncio.run(soak(args))
    result["started"] = started.isoformat(timespec="seconds")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

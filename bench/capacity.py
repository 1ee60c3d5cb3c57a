"""The soak's capacity and clean phases alone, with each bot's CPU time per message.

A full soak takes some twenty minutes; this takes two, so that a change to the bot's hot
path can be measured before and after, side by side. The bot process and the bare echo bot
run at once, each on a fake Bot API of its own, and take turns: ``--rounds`` closed loops of
``--messages`` each (``--concurrency`` people writing at once, as the soak's capacity
phase), so that the machine's speed, which drifts by a fifth from one minute to the next
here, weighs on both alike. With ``--paced``, each then gets that many messages at
``--rate`` a second (as the soak's clean phase). Besides throughput and latency it reads
each process's CPU time from ``/proc``: CPU milliseconds per message, and their ratio
between the two bots, compare across runs better than messages a second do. The whole
machine's CPU per message shows what the bot's throughput is up against on two cores:
PostgreSQL and the harness take their share too.

    .venv/bin/python -m bench.capacity --rounds 3 --messages 4000 --paced 3000

Needs PostgreSQL on 127.0.0.1:5432 (the bot's database is created afresh).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.soak import echo_people, start_bot, start_echo_bot
from bench.soak_people import (
    Person,
    SoakApi,
    Tally,
    people_for,
    run_closed,
    run_paced,
    summary,
)
from bench.soak_process import BotProcess
from bench.soak_scripts import prepare

STEPS = 20
"""Messages per person, as in the soak at its default size."""
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time all processes on the machine have used since boot, idle and I/O wait not
    counted (the first line of /proc/stat: user, nice, system, ..., in clock ticks)."""
    ticks = [int(field) for field in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = ticks[3], ticks[4]
    return (sum(ticks[:8]) - idle - iowait) / CLOCK_TICKS


def cpu_seconds(process: BotProcess) -> float:
    """User and system CPU time the process has used so far."""
    assert process.process is not None
    fields = Path(f"/proc/{process.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command's closing parenthesis: utime and stime are the 12th and 13th fields.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class Runs:
    """One bot's closed-loop rounds, added up."""

    process: BotProcess
    api: SoakApi
    messages: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    machine: float = 0.0
    """CPU time of the whole machine meanwhile: the bot, PostgreSQL, the fake and people."""
    latencies: list[float] = field(default_factory=list)

    async def closed(self, people: list[Person], concurrency: int) -> None:
        load = run_closed(self.api, people, concurrency)
        tally, cpu, machine = await measured(self.process, load)
        self.cpu += cpu
        self.machine += machine
        self.messages += tally.steps
        self.seconds += tally.finished - tally.started
        self.latencies += tally.latencies

    def figures(self) -> dict[str, Any]:
        tally = Tally(steps=self.messages, latencies=self.latencies, started=0.0)
        tally.finished = self.seconds
        return summary(tally) | per_message(self.cpu, self.machine, self.messages)

    async def paced(self, people: list[Person], rate: float) -> dict[str, Any]:
        """``people`` at ``rate`` messages a second: latency when the bot is not saturated."""
        tally, cpu, machine = await measured(self.process, run_paced(self.api, people, rate))
        return summary(tally) | per_message(cpu, machine, tally.steps)


async def measured(process: BotProcess, load: Awaitable[Tally]) -> tuple[Tally, float, float]:
    """What ``load`` did, and the CPU seconds ``process`` and the whole machine spent on it."""
    before, machine_before = cpu_seconds(process), machine_busy_seconds()
    tally = await load
    return tally, cpu_seconds(process) - before, machine_busy_seconds() - machine_before


def per_message(cpu: float, machine: float, messages: int) -> dict[str, float]:
    """CPU milliseconds per message, the process's and the machine's."""
    return {
        "cpu_ms_per_message": round(1000 * cpu / messages, 2),
        "machine_cpu_ms_per_message": round(1000 * machine / messages, 2),
    }


async def start_echo(workdir: Path) -> Runs:
    """The bare PTB echo bot, on a fake Bot API of its own."""
    api = SoakApi()
    await api.start()
    return Runs(await start_echo_bot(api, workdir), api)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    api = SoakApi()
    await api.start()
    await prepare(STEPS)
    workdir, process = start_bot(api, "infopoint-capacity-", "WARNING")
    await api.wait_for("setMyCommands", 5, timeout=120)
    bot, echo = Runs(process, api), await start_echo(workdir)
    per_round = args.messages // STEPS
    # Warm-up, not counted: connections, caches, the people's first messages.
    await run_closed(api, people_for(0, per_round // 4, STEPS), args.concurrency)
    await run_closed(echo.api, echo_people(0, args.messages // 4), args.concurrency)
    # Rounds taken in turn, so that the machine's speed, which drifts, weighs on both alike.
    first = per_round // 4
    for number in range(args.rounds):
        await bot.closed(people_for(first + number * per_round, per_round, STEPS), args.concurrency)
        await echo.closed(echo_people((number + 1) * 100_000, args.messages), args.concurrency)
    figures = {"bot_closed": bot.figures(), "echo_closed": echo.figures()}
    if args.paced:
        first += args.rounds * per_round
        figures["bot_paced"] = await bot.paced(
            people_for(first, args.paced // STEPS, STEPS), args.rate
        )
        # Echo people numbered after every round's, so that no chat is reused.
        after_rounds = (args.rounds + 1) * 100_000
        figures["echo_paced"] = await echo.paced(echo_people(after_rounds, args.paced), args.rate)
    await asyncio.gather(asyncio.to_thread(process.stop), asyncio.to_thread(echo.process.stop))
    await asyncio.gather(api.stop(), echo.api.stop())
    bot_closed, echo_closed = figures["bot_closed"], figures["echo_closed"]
    return figures | {
        "throughput_ratio_vs_echo": round(
            bot_closed["throughput_per_s"] / echo_closed["throughput_per_s"], 2
        ),
        "cpu_ratio_echo_vs_bot": round(
            echo_closed["cpu_ms_per_message"] / bot_closed["cpu_ms_per_message"], 2
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--messages", type=int, default=4000, help="closed loop, each bot, each round"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=100, help="people writing at once")
    parser.add_argument("--paced", type=int, default=0, help="paced messages, each bot")
    parser.add_argument("--rate", type=float, default=100.0, help="paced messages a second")
    print(json.dumps(asyncio.run(run(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()

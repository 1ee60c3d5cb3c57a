"""Two bots measured in turns: closed-loop rounds added up, with each process's CPU time.

This machine's speed drifts by a fifth from one minute to the next, and by a third within an
hour. A ratio of two throughputs measured at different times measures the drift as much as
the bots; rounds taken in turn, one bot's then the other's, let the drift weigh on both alike.
CPU time per message, read from ``/proc``, compares across runs better than messages a second.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.soak_people import Chats, Person, Tally, run_closed, summary
from bench.soak_process import BotProcess

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


async def measured(process: BotProcess, load: Awaitable[Tally]) -> tuple[Tally, float, float]:
    """What ``load`` did, and the CPU seconds ``process`` and the whole machine spent on it."""
    before, machine_before = cpu_seconds(process), machine_busy_seconds()
    tally = await load
    return tally, cpu_seconds(process) - before, machine_busy_seconds() - machine_before


def per_message(cpu: float, machine: float, messages: int) -> dict[str, float]:
    """CPU milliseconds per message, the process's and the machine's."""
    return {
        "cpu_ms_per_message": round(1000 * cpu / max(1, messages), 2),
        "machine_cpu_ms_per_message": round(1000 * machine / max(1, messages), 2),
    }


@dataclass
class Runs:
    """One bot's closed-loop rounds, added up."""

    process: BotProcess
    chats: Chats
    cpu: float = 0.0
    machine: float = 0.0
    """CPU time of the whole machine meanwhile: the bot, PostgreSQL, the fake and people."""
    tally: Tally = field(default_factory=lambda: Tally(started=0.0))
    """Every round's steps, latencies and late steps; ``finished`` is their seconds added up."""

    async def closed(self, people: list[Person], concurrency: int) -> None:
        load = run_closed(self.chats, people, concurrency)
        round_, cpu, machine = await measured(self.process, load)
        self.cpu += cpu
        self.machine += machine
        self.tally.steps += round_.steps
        self.tally.finished += round_.finished - round_.started
        self.tally.latencies += round_.latencies
        self.tally.timed_out += round_.timed_out
        self.tally.late += round_.late

    def figures(self) -> dict[str, Any]:
        return summary(self.tally) | per_message(self.cpu, self.machine, self.tally.steps)


async def in_turns(
    bot: Runs,
    echo: Runs,
    bot_rounds: list[list[Person]],
    echo_rounds: list[list[Person]],
    concurrency: int,
) -> None:
    """The rounds in pairs, the bot first in one pair and the echo bot in the next (ABBA), so
    that a drift that runs one way all along weighs on both the same."""
    for number, (ours, theirs) in enumerate(zip(bot_rounds, echo_rounds, strict=True)):
        pair = [(bot, ours), (echo, theirs)]
        if number % 2:
            pair.reverse()
        for runs, people in pair:
            await runs.closed(people, concurrency)


def ratios(bot: dict[str, Any], echo: dict[str, Any]) -> dict[str, float]:
    """Our throughput as a share of the echo bot's and, where both were timed on the CPU, the
    echo bot's CPU per message as a share of ours (1.0: as light as the bare echo bot)."""
    compared = {
        "throughput_ratio_vs_echo": round(bot["throughput_per_s"] / echo["throughput_per_s"], 2)
    }
    if "cpu_ms_per_message" in bot and "cpu_ms_per_message" in echo:
        cpu = echo["cpu_ms_per_message"] / bot["cpu_ms_per_message"]
        compared["cpu_ratio_echo_vs_bot"] = round(cpu, 2)
    return compared

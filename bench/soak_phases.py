"""What the soak does the same on either network: the faulted phase's crash and restart, and
the JSON it prints at the end."""

from __future__ import annotations

import argparse
import asyncio
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.soak_people import Chats, Person, Tally, run_paced, summary
from bench.soak_process import BotProcess, kill_and_restart, restart_postgres
from bench.turns import ratios

FAULT_EVERY = 25
"""People finished between two bursts of the network's own faults."""


async def run_faulted(
    args: argparse.Namespace,
    chats: Chats,
    people: Sequence[Person],
    *,
    bot: BotProcess,
    inject: Callable[[], None],
    kill_delay: random.Random,
) -> tuple[Tally, dict[str, Any]]:
    """``people`` at ``args.rate`` while ``inject`` makes the network fail every
    ``FAULT_EVERY`` people, PostgreSQL restarts at 40 % and the bot is killed at 70 %."""
    events: dict[str, Any] = {}
    marks = {int(len(people) * 0.4): "postgres", int(len(people) * 0.7): "kill"}
    kills: set[asyncio.Task[None]] = set()

    async def on_progress(done: int) -> None:
        if done % FAULT_EVERY == 0:
            inject()
        action = marks.pop(done, None)
        if action == "postgres" and args.restart_postgres:
            events["postgres_restart_s"] = round(await asyncio.to_thread(restart_postgres), 2)
        elif action == "kill":
            # Not at this moment: a person just got their last reply, so the bot has a
            # response unread, every time. A crash is not timed to a delivery.
            kills.add(asyncio.create_task(kill_and_restart(bot, kill_delay.uniform(0.05, 1.0))))
            events["killed_and_restarted"] = True

    tally = await run_paced(chats, people, args.rate, on_progress)
    await asyncio.gather(*kills)
    return tally, events


def clean_rss(bot: BotProcess, samples_before: int) -> list[int]:
    """The bot's memory samples taken since ``samples_before`` (0 while it was down)."""
    return [sample for sample in bot.rss_samples[samples_before:] if sample]


def report(
    args: argparse.Namespace,
    phases: tuple[Tally, Tally, Tally],
    *,
    faulted_events: dict[str, Any],
    expected: dict[int, int],
    received: dict[int, int],
    bot: BotProcess,
    rss_clean: list[int],
    echo: dict[str, Any],
    workdir: Path,
    capacity_cpu: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The soak's figures: messages, lost and duplicated replies, each phase, memory and the
    ratio to the echo bot; with ``capacity_cpu`` (the capacity phase's figures with CPU time
    per message, measured in turns with the echo bot's), their CPU ratio too."""
    capacity, clean, faulted = phases
    warm = rss_clean[len(rss_clean) // 10] if rss_clean else 0
    capacity_summary = capacity_cpu or summary(capacity)
    return {
        "messages_sent": capacity.steps + clean.steps + faulted.steps,
        "replies_received": sum(received.values()),
        "replies_expected": sum(expected.values()),
        "lost": sum(max(0, want - received[chat]) for chat, want in expected.items()),
        "duplicated": sum(max(0, received[chat] - want) for chat, want in expected.items()),
        "people": args.people,
        "capacity": capacity_summary | {"concurrency": args.concurrency},
        "clean": summary(clean) | {"rate_per_s": args.rate},
        "faulted": summary(faulted) | {"rate_per_s": args.rate} | faulted_events,
        "peak_rss_mib": round(max(bot.rss_samples) / 1024, 1),
        "rss_growth_clean_pct": round(100 * (rss_clean[-1] - warm) / warm, 1) if warm else None,
        "echo_bot": echo,
        **ratios(capacity_summary, echo),
        "log": str(workdir / "bot.log"),
    }

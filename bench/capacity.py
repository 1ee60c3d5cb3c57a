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
from pathlib import Path
from typing import Any

from bench.soak import echo_people, start_bot, start_echo_bot
from bench.soak_people import Person, SoakApi, people_for, run_closed, run_paced, summary
from bench.soak_scripts import prepare
from bench.turns import Runs, in_turns, measured, per_message, ratios

STEPS = 20
"""Messages per person, as in the soak at its default size."""


async def paced(runs: Runs, people: list[Person], rate: float) -> dict[str, Any]:
    """``people`` at ``rate`` messages a second: latency when the bot is not saturated."""
    tally, cpu, machine = await measured(runs.process, run_paced(runs.chats, people, rate))
    return summary(tally) | per_message(cpu, machine, tally.steps)


async def start_echo(workdir: Path) -> tuple[SoakApi, Runs]:
    """The bare PTB echo bot, on a fake Bot API of its own."""
    api = SoakApi()
    await api.start()
    return api, Runs(await start_echo_bot(api, workdir), api)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    api = SoakApi()
    await api.start()
    await prepare(STEPS)
    workdir, process = start_bot(api, "infopoint-capacity-", "WARNING")
    await api.wait_for("setMyCommands", 5, timeout=120)
    bot = Runs(process, api)
    echo_api, echo = await start_echo(workdir)
    per_round = args.messages // STEPS
    # Warm-up, not counted: connections, caches, the people's first messages.
    await run_closed(api, people_for(0, per_round // 4, STEPS), args.concurrency)
    await run_closed(echo_api, echo_people(0, args.messages // 4), args.concurrency)
    first = per_round // 4
    bot_rounds = [
        people_for(first + number * per_round, per_round, STEPS) for number in range(args.rounds)
    ]
    echo_rounds = [
        echo_people((number + 1) * 100_000, args.messages) for number in range(args.rounds)
    ]
    await in_turns(bot, echo, bot_rounds, echo_rounds, args.concurrency)
    figures = {"bot_closed": bot.figures(), "echo_closed": echo.figures()}
    if args.paced:
        first += args.rounds * per_round
        figures["bot_paced"] = await paced(
            bot, people_for(first, args.paced // STEPS, STEPS), args.rate
        )
        # Echo people numbered after every round's, so that no chat is reused.
        after_rounds = (args.rounds + 1) * 100_000
        figures["echo_paced"] = await paced(echo, echo_people(after_rounds, args.paced), args.rate)
    await asyncio.gather(asyncio.to_thread(process.stop), asyncio.to_thread(echo.process.stop))
    await asyncio.gather(api.stop(), echo_api.stop())
    return figures | ratios(figures["bot_closed"], figures["echo_closed"])


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

"""How often a kill -9 makes the bot send a message twice: many kills under steady load.

The soak kills the bot once, so whether that kill lands in the window where Telegram took a
message the bot has not yet recorded is luck. This runs the bot on the fake Bot API at
``--rate`` messages a second and kills it ``--kills`` times at random moments, starting it
again each time, then counts per chat the messages that came twice or never came. Prints one
JSON object; ``duplicates_per_kill`` is how many messages one crash repeats, on average.

    python -m bench.kill_window --kills 30 --rate 100

The default gaps (10-15 s) let the bot catch up on the backlog of its last start first.

Needs PostgreSQL on 127.0.0.1:5432 (the bot's database is created afresh).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
from collections import defaultdict
from typing import Any

from bench.soak import start_bot
from bench.soak_people import SoakApi, people_for, run_paced, summary
from bench.soak_process import BotProcess
from bench.soak_scripts import prepare

STEPS = 20
"""Messages per person, as in the soak at its default size."""
LATE_REPLIES_S = 10
START_WITHIN = 120
"""Seconds a start may take before the benchmark gives up."""


class RestartingApi(SoakApi):
    """The soak's fake Bot API, counting the bot's starts (it sets its commands once each)."""

    def __init__(self) -> None:
        super().__init__()
        self.starts = 0
        self._started = asyncio.Condition()
        self.polling = False
        self.resent: dict[int, list[str]] = defaultdict(list)
        """What each chat got from a start's resend of stored replies, before it polled."""

    async def _api_setMyCommands(self, params: dict[str, Any]) -> Any:  # noqa: N802
        async with self._started:
            self.starts += 1
            self._started.notify_all()
        self.polling = False
        return await super()._api_setMyCommands(params)

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:  # noqa: N802
        self.polling = True
        return await super()._api_getUpdates(params)

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:  # noqa: N802
        if not self.polling:
            self.resent[int(params["chat_id"])].append(str(params.get("text", ""))[:60])
        return await super()._api_sendMessage(params)

    async def wait_started(self, count: int) -> None:
        """Until the bot has started ``count`` times in all (the soak clears ``calls``)."""
        async with self._started:
            await self._started.wait_for(lambda: self.starts >= count)


async def kill_repeatedly(
    api: RestartingApi, bot: BotProcess, kills: int, gap: tuple[float, float], seed: int
) -> int:
    """Kill the bot ``kills`` times, each a random ``gap`` after it was up again."""
    moments = random.Random(seed)  # noqa: S311 - when to crash the bot, not a secret
    for done in range(1, kills + 1):
        await asyncio.sleep(moments.uniform(*gap))
        await asyncio.to_thread(bot.kill_9)
        bot.start()
        async with asyncio.timeout(START_WITHIN):
            await api.wait_started(done + 1)
    return kills


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    api = RestartingApi()
    await api.start()
    workdir, bot = start_bot(api, "infopoint-kills-", args.log_level)
    async with asyncio.timeout(START_WITHIN):
        await api.wait_started(1)
    await prepare(STEPS)
    people = people_for(0, args.people, STEPS)
    killer = asyncio.create_task(
        kill_repeatedly(api, bot, args.kills, (args.min_gap, args.max_gap), args.seed)
    )
    tally = await run_paced(api, people, args.rate)
    kills_done = await killer
    await asyncio.sleep(LATE_REPLIES_S)
    await asyncio.to_thread(bot.stop)
    await api.stop()
    expected = {user["id"]: sum(counts) for user, _, counts in people}
    received = {chat: len(api.received[chat]) for chat in expected}
    duplicated = sum(max(0, received[chat] - want) for chat, want in expected.items())
    return {
        "kills": kills_done,
        "rate_per_s": args.rate,
        "messages_sent": tally.steps,
        "lost": sum(max(0, want - received[chat]) for chat, want in expected.items()),
        "duplicated": duplicated,
        "duplicates_per_kill": round(duplicated / kills_done, 3) if kills_done else None,
        "latency": summary(tally),
        "resent_at_start": sum(len(texts) for texts in api.resent.values()),
        "chats_with_fewer_than_expected": [
            {"resent": api.resent.get(chat, []), "received": api.bodies[chat]}
            for chat, want in expected.items()
            if received[chat] < want
        ],
        "chats_with_more_than_expected": [
            {"resent": api.resent.get(chat, []), "received": api.bodies[chat]}
            for chat, want in expected.items()
            if received[chat] > want
        ],
        "log": str(workdir / "bot.log"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--rate", type=float, default=100.0, help="messages a second")
    parser.add_argument(
        "--people", type=int, default=0, help="default: enough to outlast the kills"
    )
    parser.add_argument(
        "--min-gap", type=float, default=10.0, help="seconds the bot runs before a kill"
    )
    parser.add_argument("--max-gap", type=float, default=15.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--log-level", default="WARNING", help="the bot's")
    args = parser.parse_args()
    if args.people == 0:
        # The bot needs a few seconds to start each time; keep people writing meanwhile.
        seconds = args.kills * (args.max_gap + 6)
        args.people = max(50, int(seconds * args.rate / STEPS))
    print(json.dumps(asyncio.run(measure(args)), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

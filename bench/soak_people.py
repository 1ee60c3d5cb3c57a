"""The soak's people: the fake Bot API that watches their chats, and the ways they write.

Two load models. ``run_closed`` keeps a fixed number of people writing at once, each sending
the next message as soon as the last was answered: it finds the bot's capacity, and its
latencies are mostly time spent queueing. ``run_paced`` starts people at random moments (a
Poisson process) so that messages arrive at a set rate whatever the bot does: it shows the
latency a person sees when the bot is not saturated.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import statistics
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bench.soak_scripts import LANGUAGES, Step, expected_counts, script_for, typed_script
from bot.core.messages import Channel
from tests.fakes.telegram_api import FakeBotApi

STAFF_CHAT = -100777
STAFF_ID = 501
STAFF: dict[str, Any] = {"id": STAFF_ID, "is_bot": False, "first_name": "Anna"}
ANSWER_WITHIN = 90.0
"""Seconds a person waits for a step's replies before counting the step as timed out."""

Person = tuple[dict[str, Any], list[Step], list[int]]
Progress = Callable[[int], Awaitable[None]]


class Chats(Protocol):
    """Where the soak's people write and read: the fake Bot API, or a local Synapse."""

    received: dict[int, list[float]]
    """When each message reached a person's chat, by the person's id."""
    arrived: dict[int, asyncio.Event]

    async def send_text(self, user: dict[str, Any], text: str) -> object: ...

    async def press(self, user: dict[str, Any], data: str) -> object: ...


class SoakApi(FakeBotApi):
    """The fake Bot API that tells each waiting person when a message reached their chat,
    and plays the staff member who answers and closes each new ticket."""

    def __init__(self) -> None:
        super().__init__()
        # A token of its own: a bot left running by an earlier soak would otherwise poll this
        # one if it got the same port, taking and confirming this run's updates.
        self.token = f"123456:soak-{secrets.token_hex(8)}"
        self.received: dict[int, list[float]] = defaultdict(list)
        self.bodies: dict[int, list[str]] = defaultdict(list)
        """The start of each message's text, by chat: what a chat got twice."""
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
            self.bodies[chat].append(str(params.get("text", ""))[:80])
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
    late: list[tuple[int, int]] = field(default_factory=list)
    """The chat and step number of each step that timed out."""
    started: float = field(default_factory=time.perf_counter)
    finished: float = 0.0


def people_for(
    first: int, count: int, steps: int, channel: Channel = Channel.TELEGRAM
) -> list[Person]:
    """People ``first`` to ``first + count - 1``: languages in turn, every tenth hands off."""
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
        script = (
            script_for(language, steps, handoff=handoff)
            if channel == Channel.TELEGRAM
            else typed_script(language, steps, handoff=handoff)
        )
        counts = expected_counts(language, steps, handoff=handoff, channel=channel)
        people.append((user, script, counts))
    return people


async def wait_for_messages(api: Chats, chat: int, count: int, within: float) -> bool:
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
    api: Chats, user: dict[str, Any], script: list[Step], counts: list[int], tally: Tally
) -> None:
    """One person's script, each step sent once the previous one was fully answered."""
    chat = user["id"]
    for number, (step, expected) in enumerate(zip(script, counts, strict=True)):
        before = len(api.received[chat])
        sent_at = time.perf_counter()
        if step.choice is not None:
            await api.press(user, step.choice)
        else:
            await api.send_text(user, step.text or "")
        tally.steps += 1
        if expected == 0:
            continue
        if not await wait_for_messages(api, chat, before + expected, within=ANSWER_WITHIN):
            tally.timed_out += 1
            tally.late.append((chat, number))
            continue
        tally.latencies.append(api.received[chat][before] - sent_at)


async def run_closed(
    api: Chats,
    people: Sequence[Person],
    concurrency: int,
    on_progress: Progress | None = None,
) -> Tally:
    """``concurrency`` people writing at once until all are done."""
    tally = Tally()
    slots = asyncio.Semaphore(concurrency)
    done = 0

    async def one(person: Person) -> None:
        nonlocal done
        async with slots:
            await run_person(api, *person, tally)
        done += 1
        if on_progress is not None:
            await on_progress(done)

    await asyncio.gather(*(one(person) for person in people))
    tally.finished = time.perf_counter()
    return tally


async def run_paced(
    api: Chats,
    people: Sequence[Person],
    messages_per_second: float,
    on_progress: Progress | None = None,
    seed: int = 7,
) -> Tally:
    """People arriving at random, so that their messages average ``messages_per_second``."""
    tally = Tally()
    steps = sum(len(script) for _, script, _ in people) / max(1, len(people))
    people_per_second = messages_per_second / steps
    arrivals = random.Random(seed)  # noqa: S311 - a benchmark's load, not a secret
    done = 0

    async def one(person: Person) -> None:
        nonlocal done
        await run_person(api, *person, tally)
        done += 1
        if on_progress is not None:
            await on_progress(done)

    tasks = []
    for person in people:
        tasks.append(asyncio.create_task(one(person)))
        await asyncio.sleep(arrivals.expovariate(people_per_second))
    await asyncio.gather(*tasks)
    tally.finished = time.perf_counter()
    return tally


def summary(tally: Tally) -> dict[str, Any]:
    """Messages, seconds, throughput, latency to the first reply, and steps timed out."""
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

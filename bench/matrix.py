"""Benchmark: the bot's round-trip latency on Matrix against a bare matrix-nio echo bot.

    python -m bench.matrix --messages 200 --warmup 10      (or: make bench-matrix N=200)

Starts a local Synapse (installed once into .pytest_cache/d/synapse, shared with the tests),
the whole bot in-process as `make run` starts it, and an echo bot: a bare nio client that
answers every m.text with an m.notice of the same body. One person, in a plain nio client,
has an unencrypted direct chat with each and sends "Jak uzyskać numer PESEL?" one message at
a time; a round trip is timed on the person's side, from just before room_send to the moment
the person's sync delivers the reply. The two are measured alternately in blocks, so that
drifts in the machine's speed fall on both alike. Prints a table, then one JSON line with
every figure; the target is the bot's median and p95 within 1.2 × the echo bot's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    LoginResponse,
    RoomCreateResponse,
    RoomMessageNotice,
    RoomMessageText,
    RoomSendResponse,
    SyncResponse,
)
from pydantic import SecretStr

from bot.app import build_core, start_messengers
from bot.settings import ENV_PREFIX, DatabaseSettings, MatrixSettings, Settings
from tests.synapse import Synapse, ensure_synapse

ROOT = Path(__file__).resolve().parent.parent
SYNAPSE_CACHE = ROOT / ".pytest_cache" / "d" / "synapse"
"""Where the tests' `request.config.cache.mkdir("synapse")` points: one install for both."""
QUESTION = "Jak uzyskać numer PESEL?"
ANSWER_TITLE = "Numer PESEL dla cudzoziemca"
"""How the bot's answer to QUESTION begins (knowledge/docs.pesel.yaml)."""
FIRST_REPLIES = 3
"""A person's first message: the language chosen, the privacy notice, then the answer."""
BLOCKS = 4
TARGET = 1.2
SYNC_TIMEOUT_MS = 30_000
"""Every client's long-poll, as the bot's default sync_timeout_seconds: a sync returns as
soon as an event arrives, so this bounds idle polls, not latency."""
WAIT = 30.0
"""How long a round trip may take before the benchmark gives up (a broken bot, not a slow one)."""


class BenchError(RuntimeError):
    """A step failed (login, room, an answer other than the expected one, no reply in time)."""


@dataclass(frozen=True, slots=True)
class Arrival:
    """A message from someone else, as the person's sync delivered it."""

    sender: str
    body: str
    at: float
    """time.perf_counter() when the sync handed the event to the client."""


class Member:
    """A plain nio client (no encryption store) that logs in and syncs in the background."""

    def __init__(self, server: Synapse, localpart: str) -> None:
        self.user_id = server.user_id(localpart)
        self.password = f"pw-{localpart}-{secrets.token_hex(4)}"
        server.register(localpart, self.password)
        self.client = AsyncClient(
            server.url,
            self.user_id,
            config=AsyncClientConfig(encryption_enabled=False, store_sync_tokens=False),
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Log in and begin syncing."""
        answer = await self.client.login(self.password, device_name=self.user_id)
        if not isinstance(answer, LoginResponse):
            raise BenchError(f"{self.user_id} could not log in: {answer}")
        self._task = asyncio.create_task(
            self.client.sync_forever(timeout=SYNC_TIMEOUT_MS, full_state=True)
        )

    async def stop(self) -> None:
        """Stop syncing and close the HTTP session; safe after a failed start."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()


class EchoBot(Member):
    """The baseline: joins when invited and echoes every m.text as an m.notice."""

    async def start(self) -> None:
        """Register the callbacks, then log in and sync."""
        self.client.add_event_callback(self._on_invite, InviteMemberEvent)
        self.client.add_event_callback(self._on_text, RoomMessageText)
        await super().start()

    async def _on_invite(self, room: Any, event: Any) -> None:
        if event.state_key == self.user_id and event.membership == "invite":
            await self.client.join(room.room_id)

    async def _on_text(self, room: Any, event: Any) -> None:
        if event.sender != self.user_id:
            await self.client.room_send(
                room.room_id, "m.room.message", {"msgtype": "m.notice", "body": event.body}
            )


class Person(Member):
    """Opens direct chats and times round trips: send one message, wait for its replies."""

    def __init__(self, server: Synapse, localpart: str) -> None:
        super().__init__(server, localpart)
        self.arrivals: dict[str, list[Arrival]] = defaultdict(list)
        self._taken: dict[str, int] = defaultdict(int)
        self._changed = asyncio.Condition()

    async def start(self) -> None:
        """Register the callbacks, then log in and sync."""
        self.client.add_event_callback(self._on_message, (RoomMessageText, RoomMessageNotice))
        # Membership is read from the client's rooms after each sync, so every sync wakes
        # whoever waits for someone to join.
        self.client.add_response_callback(self._on_sync, SyncResponse)
        await super().start()

    async def open_dm(self, other: str) -> str:
        """An unencrypted direct chat with ``other``; returns once ``other`` joined."""
        created = await self.client.room_create(is_direct=True, invite=[other])
        if not isinstance(created, RoomCreateResponse):
            raise BenchError(f"could not create a room with {other}: {created}")
        room_id = str(created.room_id)

        def joined() -> bool:
            room = self.client.rooms.get(room_id)
            return room is not None and other in room.users and other not in room.invited_users

        await self._wait(joined, f"{other} did not join the direct chat")
        return room_id

    async def round_trip(
        self, room_id: str, text: str, replies: int = 1
    ) -> tuple[float, list[str]]:
        """Milliseconds from just before sending ``text`` to its last reply, and the replies."""
        taken = self._taken[room_id]
        if len(self.arrivals[room_id]) != taken:
            stray = [arrival.body[:60] for arrival in self.arrivals[room_id][taken:]]
            raise BenchError(f"replies nobody asked for: {stray}")
        started = time.perf_counter()
        sent = await self.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": text}
        )
        if not isinstance(sent, RoomSendResponse):
            raise BenchError(f"could not send: {sent}")
        wanted = taken + replies
        await self._wait(
            lambda: len(self.arrivals[room_id]) >= wanted,
            f"no reply within {WAIT:.0f} s to {text!r}",
        )
        got = self.arrivals[room_id][taken:wanted]
        self._taken[room_id] = wanted
        return 1000 * (got[-1].at - started), [arrival.body for arrival in got]

    async def _wait(self, check: Callable[[], bool], failure: str) -> None:
        try:
            async with asyncio.timeout(WAIT), self._changed:
                await self._changed.wait_for(check)
        except TimeoutError:
            raise BenchError(failure) from None

    async def _on_message(self, room: Any, event: Any) -> None:
        # The time is taken before anything else: this is when the reply reached the person.
        at = time.perf_counter()
        if event.sender == self.user_id:
            return
        async with self._changed:
            self.arrivals[room.room_id].append(Arrival(event.sender, event.body, at))
            self._changed.notify_all()

    async def _on_sync(self, _response: Any) -> None:
        async with self._changed:
            self._changed.notify_all()


@asynccontextmanager
async def running_bot(server: Synapse, workdir: Path) -> AsyncIterator[str]:
    """The whole bot on Matrix, its database and files in the folder ``workdir``; yields its
    user id."""
    user_id, password = server.user_id("infopoint"), f"pw-infopoint-{secrets.token_hex(4)}"
    server.register("infopoint", password)
    settings = Settings(  # type: ignore[call-arg]  # _env_file is pydantic-settings' own
        database=DatabaseSettings(url=f"sqlite:///{workdir / 'bot.db'}"),
        var_dir=workdir,
        knowledge_dir=ROOT / "knowledge",
        pseudonym_key=SecretStr(secrets.token_hex(32)),
        # Always open, so that what the bot answers does not depend on the hour of the run.
        office_hours="mon-sun 00:00-23:59",
        # One person sends hundreds of messages a minute here; flood control would stop them.
        flood_messages_per_minute=1_000_000,
        matrix=MatrixSettings(homeserver=server.url, user_id=user_id, password=SecretStr(password)),
        _env_file=None,
    )
    core = await build_core(settings)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(core.database.dispose)
        await start_messengers(settings, core, stack)
        yield user_id


def _block_sizes(messages: int) -> list[int]:
    return [messages // BLOCKS + int(block < messages % BLOCKS) for block in range(BLOCKS)]


def _check_answer(bodies: list[str]) -> None:
    """Fail loudly rather than time something other than an answer."""
    if not bodies[-1].startswith(ANSWER_TITLE):
        raise BenchError(f"the bot did not answer the question: {bodies[-1][:200]!r}")


async def measure(server: Synapse, bot_dir: Path, messages: int, warmup: int) -> dict[str, Any]:
    """Warm both up, then time ``messages`` round trips to each, alternating in blocks."""
    async with AsyncExitStack() as stack:
        echo = EchoBot(server, "echo")
        stack.push_async_callback(echo.stop)
        await echo.start()
        bot_id = await stack.enter_async_context(running_bot(server, bot_dir))
        person = Person(server, "person")
        stack.push_async_callback(person.stop)
        await person.start()
        echo_room = await person.open_dm(echo.user_id)
        bot_room = await person.open_dm(bot_id)

        _, bodies = await person.round_trip(bot_room, QUESTION, FIRST_REPLIES)
        _check_answer(bodies)
        for _ in range(warmup):
            _check_answer((await person.round_trip(bot_room, QUESTION))[1])
        for _ in range(1 + warmup):  # as many as the bot had, its first message included
            await person.round_trip(echo_room, QUESTION)

        times: dict[str, list[float]] = {"echo": [], "bot": []}

        async def block(name: str, count: int) -> None:
            room = echo_room if name == "echo" else bot_room
            for _ in range(count):
                elapsed, bodies = await person.round_trip(room, QUESTION)
                if name == "bot":
                    _check_answer(bodies)
                elif bodies != [QUESTION]:
                    raise BenchError(f"the echo bot answered {bodies!r}")
                times[name].append(elapsed)

        # Echo first in the odd blocks, the bot first in the even ones (ABBA), so that
        # neither always runs on the warmer or the more tired machine.
        for number, count in enumerate(_block_sizes(messages)):
            for name in ("echo", "bot") if number % 2 == 0 else ("bot", "echo"):
                await block(name, count)
    return _figures(times, messages, warmup)


def _median_p95(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), statistics.quantiles(samples, n=20, method="inclusive")[-1]


def _figures(times: dict[str, list[float]], messages: int, warmup: int) -> dict[str, Any]:
    echo_median, echo_p95 = _median_p95(times["echo"])
    bot_median, bot_p95 = _median_p95(times["bot"])
    return {
        "messages": messages,
        "warmup": warmup,
        "blocks": BLOCKS,
        "first_block_order": ["echo", "bot"],
        "encrypted": False,
        "echo_median_ms": round(echo_median, 2),
        "echo_p95_ms": round(echo_p95, 2),
        "bot_median_ms": round(bot_median, 2),
        "bot_p95_ms": round(bot_p95, 2),
        "median_ratio": round(bot_median / echo_median, 3),
        "p95_ratio": round(bot_p95 / echo_p95, 3),
        "target_ratio": TARGET,
    }


def table(figures: dict[str, Any]) -> str:
    """The figures as a few aligned lines of plain text."""
    ratios = (figures["median_ratio"], figures["p95_ratio"])
    verdict = "met" if max(ratios) <= TARGET else "missed"
    return "\n".join(
        [
            f"Round trip on a local Synapse, unencrypted direct chats (both alike), "
            f"{figures['messages']} timed messages to each after {1 + figures['warmup']} untimed;",
            f"{BLOCKS} alternating blocks: the echo bot first in blocks 1 and 3, "
            "the bot first in 2 and 4.",
            "",
            f"{'':12}{'median ms':>12}{'p95 ms':>10}",
            f"{'echo bot':12}{figures['echo_median_ms']:>12.1f}{figures['echo_p95_ms']:>10.1f}",
            f"{'infopoint':12}{figures['bot_median_ms']:>12.1f}{figures['bot_p95_ms']:>10.1f}",
            f"{'ratio':12}{ratios[0]:>12.2f}{ratios[1]:>10.2f}   "
            f"(target ≤ {TARGET} × the echo bot: {verdict})",
        ]
    )


def run(messages: int, warmup: int) -> dict[str, Any]:
    """Start Synapse in a temporary folder, measure, and stop it whatever happens."""
    print(f"Synapse from {SYNAPSE_CACHE} (installed there on first use)", file=sys.stderr)
    python = ensure_synapse(SYNAPSE_CACHE)
    with tempfile.TemporaryDirectory(prefix="infopoint-bench-matrix-") as scratch:
        workdir = Path(scratch)
        (workdir / "bot").mkdir()
        server = Synapse(python, workdir / "synapse")
        try:
            server.start()
            return asyncio.run(measure(server, workdir / "bot", messages, warmup))
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200, help="timed round trips to each")
    parser.add_argument("--warmup", type=int, default=10, help="untimed ones after the first")
    args = parser.parse_args()
    if args.messages < BLOCKS or args.warmup < 0:
        parser.error(f"--messages must be at least {BLOCKS}, --warmup at least 0")
    # A developer's INFOPOINT_* variables (a Telegram token, another database) must not
    # reach the bot under measurement; .env is kept out by _env_file=None.
    for name in [name for name in os.environ if name.startswith(ENV_PREFIX)]:
        del os.environ[name]
    figures = run(args.messages, args.warmup)
    print(table(figures))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

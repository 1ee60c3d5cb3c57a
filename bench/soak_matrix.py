"""The soak on Matrix: the real bot process through a local Synapse (``bench.soak --matrix``).

The same people, scripts and phases as on Telegram (see soak.py), typed as Matrix users type
them. The faults are Synapse's own: the bot's messages are rate-limited for a second now and
then, so it meets real 429s with their retry_after_ms; PostgreSQL is restarted and the bot
is killed with SIGKILL once. The yardstick is a bare matrix-nio echo bot.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import aiohttp

from bench.soak_people import Person, people_for, run_closed, run_paced, summary
from bench.soak_phases import clean_rss, report, run_faulted
from bench.soak_process import BotProcess, bot_settings
from bench.soak_scripts import Step, prepare
from bench.soak_synapse import STAFF_LOCALPART, SoakSynapse, SynapseChats
from bot.core.messages import Channel
from tests.synapse import ensure_synapse

ROOT: Final = Path(__file__).resolve().parent.parent
SYNAPSE_CACHE: Final = ROOT / ".pytest_cache" / "d" / "synapse"
"""The tests' Synapse install, shared (see bench/matrix.py)."""
LATE_REPLIES_S: Final = 10
LIMIT_SECONDS: Final = 1.0
KILL_DELAY: Final = random.Random(13)  # noqa: S311 - when to crash the bot, not a secret


class RateLimits:
    """Synapse's admin API, to rate-limit the bot's messages for a moment."""

    def __init__(self, homeserver: str, admin_token: str, bot_id: str) -> None:
        self._url = f"{homeserver}/_synapse/admin/v1/users/{quote(bot_id)}/override_ratelimit"
        self._headers = {"Authorization": f"Bearer {admin_token}"}
        self.windows = 0
        self._open: set[asyncio.Task[None]] = set()

    def start_window(self) -> None:
        """A window of ``LIMIT_SECONDS`` from now, in the background."""
        window = asyncio.create_task(self._window(LIMIT_SECONDS))
        self._open.add(window)
        window.add_done_callback(self._open.discard)

    async def settled(self) -> None:
        """Once every window has closed again."""
        await asyncio.gather(*self._open)

    async def _window(self, seconds: float) -> None:
        """One message a second for ``seconds``: what is sent faster is answered 429."""
        async with aiohttp.ClientSession(headers=self._headers) as session:
            limit = {"messages_per_second": 1, "burst_count": 1}
            async with session.post(self._url, json=limit) as response:
                response.raise_for_status()
            self.windows += 1
            await asyncio.sleep(seconds)
            async with session.delete(self._url) as response:
                response.raise_for_status()


async def soak_matrix(args: argparse.Namespace) -> dict[str, Any]:
    python = await asyncio.to_thread(ensure_synapse, SYNAPSE_CACHE)
    workdir = Path(tempfile.mkdtemp(prefix="infopoint-soak-matrix-"))
    chats = SynapseChats()
    await chats.listen()
    server = SoakSynapse(python, workdir / "synapse", chats)
    await asyncio.to_thread(server.start)
    try:
        return await _phases(args, server, chats, workdir)
    finally:
        await chats.close()
        await asyncio.to_thread(server.stop)


async def _phases(
    args: argparse.Namespace, server: SoakSynapse, chats: SynapseChats, workdir: Path
) -> dict[str, Any]:
    password = secrets.token_hex(12)
    bot_account = await asyncio.to_thread(server.register, "infopoint", password)
    admin = await asyncio.to_thread(server.register, "admin", secrets.token_hex(12), True)
    await chats.connect(server.url, bot_account.user_id)
    staff_room = await chats.open_staff_room()
    environment = matrix_environment(server, bot_account.user_id, password, staff_room, workdir)
    bot = BotProcess([sys.executable, "-m", "bot", "run"], environment, workdir)
    bot.start()
    await chats.bot_in_staff_room()
    steps = max(3, args.messages // args.people)
    await prepare(steps, channel=Channel.MATRIX)
    sampling = asyncio.Event()
    sampler = asyncio.create_task(bot.sample_memory(sampling))

    first_paced = max(1, args.people // 10)
    first_faulted = first_paced + (args.people - first_paced) // 2
    capacity_people = people_for(0, first_paced, steps, Channel.MATRIX)
    await chats.open_chats([user for user, _, _ in capacity_people])
    capacity = await run_closed(chats, capacity_people, args.concurrency)

    clean_people = people_for(first_paced, first_faulted - first_paced, steps, Channel.MATRIX)
    await chats.open_chats([user for user, _, _ in clean_people])
    samples_before = len(bot.rss_samples)
    clean = await run_paced(chats, clean_people, args.rate)
    rss_clean = clean_rss(bot, samples_before)

    faulted_people = people_for(first_faulted, args.people - first_faulted, steps, Channel.MATRIX)
    await chats.open_chats([user for user, _, _ in faulted_people])
    limits = RateLimits(server.url, admin.access_token, bot_account.user_id)
    faulted, events = await run_faulted(
        args, chats, faulted_people, bot=bot, inject=limits.start_window, kill_delay=KILL_DELAY
    )
    await limits.settled()
    events["rate_limit_windows"] = limits.windows
    await asyncio.sleep(LATE_REPLIES_S)
    sampling.set()
    await sampler
    await asyncio.to_thread(bot.stop)
    all_people = [*capacity_people, *clean_people, *faulted_people]
    expected = {user["id"]: sum(counts) for user, _, counts in all_people}
    received = {person: len(chats.received[person]) for person in expected}
    repeated = [
        chats.bodies[person] for person, want in expected.items() if received[person] > want
    ]
    short = [
        {"person": person, "expected": want, "received": chats.bodies[person]}
        for person, want in expected.items()
        if received[person] < want
    ]
    echo = await echo_yardstick(server, chats, workdir, capacity.steps, args.concurrency)
    phases = (capacity, clean, faulted)
    figures = report(
        args,
        phases,
        faulted_events=events,
        expected=expected,
        received=received,
        bot=bot,
        rss_clean=rss_clean,
        echo=echo,
        workdir=workdir,
    )
    return (
        {"network": "matrix"}
        | figures
        | {
            "tickets_answered_by_staff": len(chats.tickets_seen),
            "chats_with_more_than_expected": repeated[:3],
            "chats_with_fewer_than_expected": short[:3],
        }
    )


def matrix_environment(
    server: SoakSynapse, user_id: str, password: str, staff_room: str, workdir: Path
) -> dict[str, str]:
    """The bot's settings: Synapse, a fresh database, always open, no flood control."""
    return bot_settings(workdir) | {
        "INFOPOINT_MATRIX__HOMESERVER": server.url,
        "INFOPOINT_MATRIX__USER_ID": user_id,
        "INFOPOINT_MATRIX__PASSWORD": password,
        "INFOPOINT_MATRIX__STAFF_ROOM_ID": staff_room,
        "INFOPOINT_MATRIX__STAFF_IDS": server.user_id(STAFF_LOCALPART),
    }


async def echo_yardstick(
    server: SoakSynapse, chats: SynapseChats, workdir: Path, messages: int, concurrency: int
) -> dict[str, Any]:
    """As many text messages through a bare matrix-nio echo bot, in new direct chats."""
    password = secrets.token_hex(12)
    account = await asyncio.to_thread(server.register, "echo", password)
    echo_dir = workdir / "echo"
    echo_dir.mkdir()
    environment = {"PATH": os.environ.get("PATH", "/usr/bin"), "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "bench.matrix_echo", server.url, account.user_id, password]
    echo = BotProcess(argv, environment, echo_dir)
    echo.start()
    chats.bot_id = account.user_id  # the replies counted from now on are the echo bot's
    crowd: list[Person] = [
        (
            {"id": 20_000_000 + index},
            [Step(text=f"echo {index} {n}") for n in range(20)],
            [1] * 20,
        )
        for index in range(max(1, messages // 20))
    ]
    try:
        await chats.open_chats([user for user, _, _ in crowd])
        tally = await run_closed(chats, crowd, concurrency)
    finally:
        await asyncio.to_thread(echo.stop)
    return summary(tally)

"""The soak's processes: the bot under measurement, and the PostgreSQL server it uses."""

from __future__ import annotations

import asyncio
import atexit
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE_PREFIX = "infopoint_soak"
ROOT = Path(__file__).resolve().parent.parent


def bot_settings(workdir: Path) -> dict[str, str]:
    """What the bot gets on either network: a fresh database, always open, no flood
    control, warnings only; the network's own settings are added to these."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin"),
        "PYTHONPATH": str(ROOT),
        "INFOPOINT_DATABASE__URL": fresh_database(),
        "INFOPOINT_PSEUDONYM_KEY": "22" * 32,
        "INFOPOINT_OFFICE_HOURS": "mon-sun 00:00-23:59",
        "INFOPOINT_FLOOD_MESSAGES_PER_MINUTE": "100000",
        "INFOPOINT_LOG_LEVEL": "WARNING",
        "INFOPOINT_VAR_DIR": str(workdir / "var"),
    }


class BotProcess:
    """``python -m bot run`` (or the echo bot), its log in a file, its memory sampled."""

    def __init__(self, argv: list[str], env: dict[str, str], workdir: Path) -> None:
        self.argv, self.env, self.workdir = argv, env, workdir
        self.process: subprocess.Popen[bytes] | None = None
        self.rss_samples: list[int] = []
        # A soak that fails must not leave its bot running: it would go on using the next
        # soak's database (each soak recreates it under the same name).
        atexit.register(self.stop)

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
        # A process killed but not yet reaped (the kill -9 of the faulted phase) has no VmRSS.
        line = next((line for line in status.splitlines() if line.startswith("VmRSS:")), None)
        return 0 if line is None else int(line.split()[1])

    async def sample_memory(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.rss_samples.append(self.rss_kib())
            await asyncio.sleep(1)


def fresh_database(name: str | None = None) -> str:
    """A new, empty database: ``name``, or one for this run, after the earlier runs' are
    dropped.

    Each run's has a name of its own because a bot an earlier run left behind (a soak cut
    short, whose bot is still finishing its batch) reconnects to its database by name. Had
    this run's the same name, it would write into it: its claims of update ids 1, 2, ... (every
    fake counts from 1) would make this run's bot skip the updates with those ids, and this
    run's people (the same Telegram ids) would be known before they wrote.

    An earlier database that something is still connected to is left alone: dropping it
    under a run still going (a benchmark started while another ran) made that run's bot
    retry it in a loop, which skewed every figure of the new run. It goes at a later run.
    """
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        if name is None:
            earlier = admin.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s",
                (f"{DATABASE_PREFIX}%",),
            )
            for (old,) in earlier.fetchall():
                try:
                    admin.execute(f'DROP DATABASE IF EXISTS "{old}"')
                except psycopg.errors.ObjectInUse:
                    print(f"{old} is in use, by a benchmark still running?", file=sys.stderr)
            name = f"{DATABASE_PREFIX}_{os.getpid()}_{int(time.time())}"
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def restart_postgres() -> float:
    """Restart the machine's PostgreSQL with Debian's pg_ctlcluster; returns the seconds."""
    version = sorted(path.name for path in Path("/etc/postgresql").iterdir())[-1]
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"]
    started = time.perf_counter()
    subprocess.run(command, check=True)  # noqa: S603 - fixed arguments, Debian's tool
    return time.perf_counter() - started


async def kill_and_restart(bot: BotProcess, after: float) -> None:
    await asyncio.sleep(after)
    await asyncio.to_thread(bot.kill_9)
    bot.start()

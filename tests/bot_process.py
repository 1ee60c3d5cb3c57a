"""The bot as a real process, `python -m bot run`, for tests that kill it with SIGKILL."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path


class BotProcess:
    """`python -m bot run` with its log in a file (a pipe nobody reads could stall it)."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.environment = env
        self._workdir = workdir
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        log = (self._workdir / "bot.log").open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=self._workdir,
            env=self.environment,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        log.close()

    async def kill_9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), 30)
        return self.process.returncode or 0

    @property
    def log(self) -> str:
        return (self._workdir / "bot.log").read_text()

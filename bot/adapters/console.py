"""A console chat with the bot: a REPL for people, and a pipe for scripts and tests."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime
from typing import Final, TextIO

from bot.core.dialogue import DialogueEngine
from bot.core.messages import Channel, Inbound, Reply

log = logging.getLogger(__name__)

QUIT_COMMANDS: Final = frozenset({"/quit", "/exit"})


def render_plain(reply: Reply) -> str:
    """A reply as plain text: title, body, sources, and numbered options."""
    lines: list[str] = []
    if reply.title:
        lines += [f"== {reply.title} ==", ""]
    lines.append(reply.text)
    lines += [f"  {link.label}: {link.url}" for link in reply.links]
    if reply.options:
        lines.append("")
        lines += [f"  {number}) {option.label}" for number, option in enumerate(reply.options, 1)]
    return "\n".join(lines)


class ConsoleChat:
    """Reads lines, hands them to the engine, prints the replies; ends at EOF or /quit.

    Options are answered by typing their number (or their label); the engine maps it.
    """

    def __init__(
        self,
        engine: DialogueEngine,
        *,
        stdin: TextIO,
        stdout: TextIO,
        user_id: str = "local",
        language_hint: str | None = None,
        interactive: bool = False,
    ) -> None:
        self._engine = engine
        self._stdin = stdin
        self._stdout = stdout
        self._user_id = user_id
        self._language_hint = language_hint
        self._interactive = interactive
        self._session = uuid.uuid4().hex
        self._events = 0

    async def run(self) -> None:
        """Greet as Telegram's Start button would, then chat until the input ends."""
        if self._interactive:
            self._print("infopoint console chat: type /quit or press Ctrl-D to leave.\n")
        await self._deliver("/start")
        loop = asyncio.get_running_loop()
        while True:
            if self._interactive:
                self._stdout.write("> ")
                self._stdout.flush()
            line = await loop.run_in_executor(None, self._stdin.readline)
            if not line:
                break
            text = line.rstrip("\r\n")
            if text.strip().lower() in QUIT_COMMANDS:
                break
            await self._deliver(text)

    async def _deliver(self, text: str) -> None:
        self._events += 1
        inbound = Inbound(
            channel=Channel.CONSOLE,
            user_id=self._user_id,
            event_id=f"{self._session}:{self._events}",
            received_at=datetime.now(UTC),
            text=text,
            language_hint=self._language_hint,
        )
        try:
            replies = await self._engine.handle(inbound)
        except Exception:
            # The error boundary: log it, apologise, and keep the chat going.
            log.exception("handling a console message failed")
            replies = [self._engine.apology(self._language_hint)]
        for reply in replies:
            self._print(render_plain(reply) + "\n")

    def _print(self, text: str) -> None:
        self._stdout.write(text + "\n")
        self._stdout.flush()

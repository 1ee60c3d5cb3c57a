"""Sending a chat's replies in the background, each chat's in the order they were handed over.

Once the engine has committed an event, its replies are stored with it, and a crash before
they are sent leaves them to ``ReplyDelivery.resend_undelivered`` at the next start. So the
poller need not wait for Telegram to take them before it confirms the update; waiting for
them all made one person's flood wait (429, up to minutes long) hold up everyone's
messages. The sends still go one chat at a time and in order, so a person
never sees an answer before the one to their previous message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Final

log = logging.getLogger(__name__)

WAIT_UP_TO: Final = 1.0
"""Seconds an update's handling waits for its replies, as before: a send takes milliseconds.
Not waiting at all cost the bot 12 % more CPU per message under load (bench.capacity, when
the poller still fetched a batch only after the last one was done; smaller batches, so more
fetches, was the likely cause). Only a reply told to wait (429) or retrying after errors
outlasts it."""
MAX_IN_FLIGHT: Final = 256
"""Sends waiting or under way; beyond this the caller waits, as the poller did before, so a
Telegram outage slows what the bot takes in rather than piling up tasks."""


class ChatQueues:
    """Runs each chat's sends one after another, and all chats' side by side."""

    def __init__(self, max_in_flight: int = MAX_IN_FLIGHT) -> None:
        self._room = asyncio.Semaphore(max_in_flight)
        self._last: dict[int, asyncio.Task[None]] = {}
        """Each chat's latest send: the next one for the chat waits for it."""
        self._running: set[asyncio.Task[None]] = set()

    async def add(
        self, chat_id: int, send: Callable[[], Awaitable[None]], wait_up_to: float = WAIT_UP_TO
    ) -> None:
        """Queue ``send`` after the chat's earlier ones, and wait for it to end, but no longer
        than ``wait_up_to`` seconds (nor while ``MAX_IN_FLIGHT`` sends are under way)."""
        await self._room.acquire()
        earlier = self._last.get(chat_id)
        task = asyncio.create_task(self._in_turn(earlier, send), name=f"send-to-{chat_id}")
        self._last[chat_id] = task
        self._running.add(task)
        task.add_done_callback(lambda done: self._finished(chat_id, done))
        await asyncio.wait({task}, timeout=wait_up_to)

    async def drain(self) -> None:
        """Wait until every queued send has ended."""
        while self._running:
            await asyncio.wait(set(self._running))

    async def _in_turn(
        self, earlier: asyncio.Task[None] | None, send: Callable[[], Awaitable[None]]
    ) -> None:
        if earlier is not None:
            await asyncio.wait({earlier})  # how it ended is its own business, logged there
        try:
            await send()
        except Exception:
            # Nothing awaits this task: what it raises would otherwise be lost unlogged.
            log.exception("sending replies failed")

    def _finished(self, chat_id: int, task: asyncio.Task[None]) -> None:
        self._room.release()
        self._running.discard(task)
        if self._last.get(chat_id) is task:
            del self._last[chat_id]

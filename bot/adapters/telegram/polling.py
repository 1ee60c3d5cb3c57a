"""Long polling that confirms a batch of updates to Telegram only once it was handled.

PTB's own Updater confirms updates as soon as it has fetched them, so a crash loses whatever
waits in its queue. Here the next getUpdates, whose offset confirms the previous batch, is
made only after every update of that batch was handled: after a crash Telegram delivers them
again, and the engine's processed-event table turns the ones already handled into no-ops.
"Handled" means committed: the replies, stored with the event, may still be on their way
(see chat_queues.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Final

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.adapters.tasks import wait_ended
from bot.adapters.telegram.delivery import retry_seconds

log = logging.getLogger(__name__)

MAX_BACKOFF: Final = 30.0
BATCH_CONCURRENCY: Final = 32
"""People handled at once within a batch; one person's updates always run in order."""


class DurablePolling:
    """Runs the getUpdates loop for ``application`` until stopped."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        allowed_updates: Sequence[str],
        poll_timeout: int = 25,
    ) -> None:
        self._application = application
        self._allowed_updates = list(allowed_updates)
        self._poll_timeout = poll_timeout
        self._offset: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._handling = False
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="telegram-polling")

    async def stop(self) -> None:
        """Finish the batch in hand, confirm it, and stop; a waiting long poll is cut short."""
        self._stopping = True
        task, self._task = self._task, None
        if task is None:
            return
        if not self._handling:
            task.cancel()
        await wait_ended(task)
        if self._offset is not None:
            # Confirm the last batch now, so the next start does not fetch it again.
            with contextlib.suppress(NetworkError, RetryAfter, Conflict):
                await self._application.bot.get_updates(offset=self._offset, limit=1, timeout=0)

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                updates = await self._application.bot.get_updates(
                    offset=self._offset,
                    timeout=self._poll_timeout,
                    allowed_updates=self._allowed_updates,
                )
            except InvalidToken:
                log.critical("Telegram refused the bot token; polling stops")
                raise
            except RetryAfter as error:
                await asyncio.sleep(retry_seconds(error.retry_after))
                continue
            except TimedOut:
                continue  # a long poll that outlived its read timeout: just ask again
            except (NetworkError, Conflict) as error:
                failures += 1
                delay = min(MAX_BACKOFF, 0.5 * 2**failures)
                log.warning("getUpdates failed (%s); again in %.1f s", type(error).__name__, delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            if not updates:
                continue
            self._handling = True
            try:
                await self._handle_batch(updates)
            finally:
                self._handling = False
            self._offset = updates[-1].update_id + 1

    async def _handle_batch(self, updates: Sequence[Update]) -> None:
        by_person: dict[object, list[Update]] = {}
        for update in updates:
            by_person.setdefault(_person_of(update), []).append(update)
        slots = asyncio.Semaphore(BATCH_CONCURRENCY)
        process = self._application.process_update

        async def in_order(person_updates: list[Update]) -> None:
            async with slots:
                for update in person_updates:
                    # PTB's error handlers catch what a handler raises: nothing escapes here.
                    await process(update)

        await asyncio.gather(*(in_order(group) for group in by_person.values()))


def _person_of(update: Update) -> object:
    """Whose update this is, so that one person's messages are handled in the order sent."""
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.update_id

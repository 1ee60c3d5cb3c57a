"""Long polling that confirms an update to Telegram only once it was handled.

PTB's own Updater confirms updates as soon as it has fetched them, so a crash loses whatever
waits in its queue. Here getUpdates' offset, which confirms every update below it, never
passes an update still being handled: after a crash Telegram delivers those again, and the
engine's processed-event table turns the ones already handled into no-ops. "Handled" means
committed: the replies, stored with the event, may still be on their way (see
chat_queues.py).

While people keep writing, the next updates are fetched before the last ones in hand are
done, so that the bot is not idle between one batch's slowest update and the next batch.
Such a fetch must ask from the oldest update still in hand, and Telegram sends again every
unconfirmed update from there on: ``UnseenUpdatesRequest`` drops those before PTB parses
them, and the poller skips any that still come twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Final

from telegram import Update
from telegram._utils.types import JSONDict, ODVInput
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from bot.adapters.tasks import wait_ended
from bot.adapters.telegram.delivery import retry_seconds

log = logging.getLogger(__name__)

MAX_BACKOFF: Final = 30.0
HANDLED_AT_ONCE: Final = 32
"""People handled at once; one person's updates always run in order."""
REFILL_AT: Final = HANDLED_AT_ONCE // 2
"""Updates still in hand when the next ones are fetched, if the last fetch brought at least
as many: people are writing faster than the bot answers. bench.capacity: fetching only once
a whole batch was done left the bot's core idle an eighth of the time."""
MAX_UNCONFIRMED: Final = 50
"""No fetch ahead while more updates than this are fetched but not yet confirmable: Telegram
sends at most 100 at a time, all of them again, and a slow update at their head must not
leave no room for new ones."""


class UnseenUpdatesRequest(BaseRequest):
    """getUpdates' request backend: drops the updates the poller already has, unparsed.

    Parsing an update into PTB's objects costs some 80 µs, a twentieth of all the bot does
    for a message; the ones a fetch ahead brings again would be parsed for nothing.
    """

    def __init__(self, backend: BaseRequest) -> None:
        self._backend = backend
        self.seen_up_to: int | None = None
        """The last update_id the poller has taken; set by it before each fetch."""

    @property
    def read_timeout(self) -> float | None:
        return self._backend.read_timeout

    async def initialize(self) -> None:
        await self._backend.initialize()

    async def shutdown(self) -> None:
        await self._backend.shutdown()

    def parse_json_payload(self, payload: bytes) -> JSONDict:  # type: ignore[override]
        # PTB's is a staticmethod, but it calls this one on the instance.
        decoded = self._backend.parse_json_payload(payload)
        updates = decoded.get("result")
        if self.seen_up_to is not None and isinstance(updates, list):
            seen = self.seen_up_to
            decoded["result"] = [update for update in updates if update["update_id"] > seen]
        return decoded

    async def do_request(  # noqa: PLR0917 - PTB's signature
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        return await self._backend.do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )


class DurablePolling:
    """Runs the getUpdates loop for ``application`` until stopped.

    ``unseen`` is the application's getUpdates request, if it is an ``UnseenUpdatesRequest``.
    """

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        allowed_updates: Sequence[str],
        poll_timeout: int = 25,
        unseen: UnseenUpdatesRequest | None = None,
    ) -> None:
        self._application = application
        self._allowed_updates = list(allowed_updates)
        self._poll_timeout = poll_timeout
        self._unseen = unseen
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._slots = asyncio.Semaphore(HANDLED_AT_ONCE)
        self._in_hand: dict[int, asyncio.Task[None]] = {}
        """Updates taken and not yet handled, by update_id."""
        self._last_of_person: dict[object, asyncio.Task[None]] = {}
        """Each person's latest update in hand: the next one waits for it."""
        self._last_seen: int | None = None
        self._one_handled = asyncio.Event()
        self._keeping_up = False
        """Whether the last fetch brought ``REFILL_AT`` updates or more."""

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="telegram-polling")

    async def stop(self) -> None:
        """Finish the updates in hand, confirm them, and stop; a fetch under way is cut short
        (what it brings is not confirmed, so Telegram keeps it)."""
        self._stopping = True
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        await wait_ended(task)
        if self._in_hand:
            await asyncio.wait(set(self._in_hand.values()))
        if self._last_seen is not None:
            # Confirm the last updates now, so the next start does not fetch them again.
            try:
                await self._application.bot.get_updates(
                    offset=self._last_seen + 1, limit=1, timeout=0
                )
            except (NetworkError, RetryAfter, Conflict) as error:
                log.warning("could not confirm the last updates (%s)", type(error).__name__)

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            await self._until_fetch_is_due()
            if self._unseen is not None:
                self._unseen.seen_up_to = self._last_seen
            try:
                updates = await self._application.bot.get_updates(
                    offset=self._offset(),
                    # With updates in hand Telegram answers at once: they are unconfirmed.
                    timeout=0 if self._in_hand else self._poll_timeout,
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
            taken = sum(self._take(update) for update in updates)
            self._keeping_up = taken >= REFILL_AT

    async def _until_fetch_is_due(self) -> None:
        """Wait while updates are in hand, unless people are writing fast and few are left."""
        while self._in_hand and not self._fetch_ahead():
            self._one_handled.clear()
            await self._one_handled.wait()

    def _fetch_ahead(self) -> bool:
        """With updates in hand (so some were seen): whether to fetch before they are done."""
        if not self._keeping_up or len(self._in_hand) > REFILL_AT or self._last_seen is None:
            return False
        return self._last_seen + 1 - min(self._in_hand) <= MAX_UNCONFIRMED

    def _offset(self) -> int | None:
        """The oldest update not yet handled: getUpdates confirms every one below it."""
        if self._in_hand:
            return min(self._in_hand)
        return None if self._last_seen is None else self._last_seen + 1

    def _take(self, update: Update) -> bool:
        """Start handling ``update`` after its person's earlier ones; False if it was taken
        already (Telegram may send an update twice)."""
        if self._last_seen is not None and update.update_id <= self._last_seen:
            return False
        self._last_seen = update.update_id
        person = _person_of(update)
        task = asyncio.create_task(
            self._handle(update, self._last_of_person.get(person)),
            name=f"telegram-update-{update.update_id}",
        )
        self._in_hand[update.update_id] = task
        self._last_of_person[person] = task
        task.add_done_callback(lambda done: self._handled(update.update_id, person, done))
        return True

    async def _handle(self, update: Update, earlier: asyncio.Task[None] | None) -> None:
        if earlier is not None:
            await asyncio.wait({earlier})
        async with self._slots:
            try:
                await self._application.process_update(update)
            except Exception:
                # PTB's error handlers catch what a handler raises, so this is PTB failing.
                # Counted as handled: fetched again, it would fail again and hold up the rest.
                log.exception("PTB failed to process update %s", update.update_id)

    def _handled(self, update_id: int, person: object, task: asyncio.Task[None]) -> None:
        del self._in_hand[update_id]
        if self._last_of_person.get(person) is task:
            del self._last_of_person[person]
        self._one_handled.set()


def _person_of(update: Update) -> object:
    """Whose update this is, so that one person's messages are handled in the order sent."""
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.update_id

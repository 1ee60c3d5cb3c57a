"""Replies to people on Telegram, delivered at least once.

Each send is retried through Telegram's flood waits (429), server errors, timeouts and network
failures, with back-off. What the engine stored with the event is settled once Telegram took
it, so a crash in between leaves it to be sent at the next start. A person who blocked the bot
is given up on at once: retrying would never succeed. Once the bot is stopping, stored replies
are not retried either: they wait for the next start, rather than holding up the stop for
minutes while Telegram is unreachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Final, TypeVar

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.warnings import PTBUserWarning

from bot.adapters.telegram.rendering import keyboard_json, render_html
from bot.adapters.telegram.splitting import fitted_parts
from bot.core.messages import Channel, Reply
from bot.storage.pending_replies import SqlPendingReplies

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_DELAYS: Final = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 30.0, 30.0, 30.0)
"""Seconds between attempts after a server or network error: about two and a half minutes,
which rides out Telegram's usual hiccups without holding a reply for ever."""
_NO_PREVIEW: Final = {"is_disabled": True}


class Undeliverable(Exception):  # noqa: N818 - a state of the person's chat, not a bug
    """Telegram will not take messages for this chat (blocked, deactivated, never started)."""


async def with_retries(
    send: Callable[[], Awaitable[T]],
    delays: Sequence[float] = RETRY_DELAYS,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    stop: asyncio.Event | None = None,
) -> T:
    """Call ``send`` until Telegram takes it, waiting as a 429 asks and backing off after
    5xx, timeouts and network errors. A refused request (400, 403) is not retried, nor is
    anything once ``stop`` is set (a wait in progress then ends at once).

    A timeout may hide a message Telegram did deliver; sending it again is the price of never
    losing one.
    """
    if stop is not None:
        sleep = functools.partial(_sleep_until, stop)
    attempt = 0
    while True:
        try:
            return await send()
        except RetryAfter as error:
            if stop is not None and stop.is_set():
                raise
            # Flood waits do not use up attempts: Telegram says exactly how long to wait.
            await sleep(retry_seconds(error.retry_after))
            continue
        except BadRequest:
            raise  # a subclass of NetworkError, but what we sent was wrong: retrying won't help
        except NetworkError as error:  # 5xx, timeouts, connection failures
            if attempt >= len(delays) or (stop is not None and stop.is_set()):
                raise
            log.warning("Telegram send failed (%s); retrying", type(error).__name__)
            await sleep(delays[attempt])
            attempt += 1


async def _sleep_until(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or until ``stop`` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def retry_seconds(retry_after: int | timedelta) -> float:
    """A RetryAfter's wait in seconds (PTB gives an int or, when asked, a timedelta)."""
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else retry_after


class ReplyDelivery:
    """Sends an event's replies to a private chat and settles them in the ledger."""

    def __init__(
        self,
        bot: Bot,
        ledger: SqlPendingReplies | None,
        delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self._bot = bot
        self._ledger = ledger
        self._delays = delays
        self._stopping = asyncio.Event()
        # See _send: PTB warns that sendMessage has a method of its own, which we know.
        warnings.filterwarnings("ignore", r"Please use 'Bot\.sendMessage' instead", PTBUserWarning)

    @property
    def resends_after_a_crash(self) -> bool:
        """Whether replies a crash kept from being sent go out at the next start."""
        return self._ledger is not None

    def stop_retrying(self) -> None:
        """The bot is stopping: a stored reply that fails is left for the next start."""
        self._stopping.set()

    async def deliver(self, chat_id: int, event_id: str | None, replies: Sequence[Reply]) -> None:
        """Send ``replies`` in order; ``event_id`` names what the engine stored, if anything.

        On a network failure that outlasts the retries the rest stays stored, to be sent at
        the next start; a refused reply is logged and skipped.
        """
        # With a ledger, the engine stored the event's replies, which can wait for the next
        # start. (Not the few notices it gives without a transaction, the flood notice and an
        # outage's apology: these are dropped if Telegram is down while the bot stops.)
        stop = self._stopping if event_id is not None and self._ledger is not None else None
        # Long replies in the parts they go out as, so that what is left is stored by part.
        parts = [part for reply in replies for part in fitted_parts(reply)]
        for index, part in enumerate(parts):
            try:
                await self._send(chat_id, part, stop)
            except Undeliverable:
                log.info("a person's chat no longer takes messages; their replies are dropped")
                break
            except BadRequest as error:
                log.error(  # noqa: TRY400 - the refusal says it all; no traceback
                    "Telegram refused a reply (%s); it is skipped", error.message
                )
            except (NetworkError, RetryAfter):
                log.exception("Telegram stayed unreachable; the replies wait for a restart")
                await self._settle(event_id, parts[index:])
                return
            if index + 1 < len(parts):
                # A crash now must not send the ones delivered so far a second time.
                await self._settle(event_id, parts[index + 1 :])
        await self._settle(event_id, ())

    async def send_reply(
        self, chat_id: int, reply: Reply, stop: asyncio.Event | None = None
    ) -> None:
        """One reply, in parts when long: cut between paragraphs, its buttons under the last;
        no more tries once ``stop`` is set."""
        for part in fitted_parts(reply):
            await self._send(chat_id, part, stop)

    async def _send(self, chat_id: int, part: Reply, stop: asyncio.Event | None) -> None:
        """One part of a reply (see fitted_parts), as one message."""
        message = {
            "chat_id": chat_id,
            "text": render_html(part),
            "parse_mode": ParseMode.HTML.value,
            "link_preview_options": _NO_PREVIEW,
        }
        if (buttons := keyboard_json(part)) is not None:
            message["reply_markup"] = buttons

        async def send() -> None:
            # Not Bot.send_message: it makes a Message object of Telegram's answer, which we
            # never read, and that was a tenth of the bot's CPU under load. This goes the same
            # way, through the rate limiter and the request backend, and raises the same errors.
            await self._bot.do_api_request("sendMessage", message)

        try:
            return await with_retries(send, self._delays, stop=stop)
        except Forbidden as error:
            raise Undeliverable(error.message) from error

    async def resend_undelivered(self) -> int:
        """Send what a crash or a long outage left stored; returns how many events it was."""
        if self._ledger is None:
            return 0
        left = await self._ledger.undelivered(Channel.TELEGRAM, fitted_parts)
        for event in left:
            await self.deliver(int(event.address), event.event_id, event.replies)
        if left:
            log.info("sent the replies of %d events left undelivered", len(left))
        return len(left)

    async def _settle(self, event_id: str | None, remaining: Sequence[Reply]) -> None:
        if self._ledger is not None and event_id is not None:
            await self._ledger.settle(Channel.TELEGRAM, event_id, remaining)

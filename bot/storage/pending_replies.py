"""Replies kept with their event until the adapter has delivered them (at-least-once).

The dialogue engine stores an event's replies in the same transaction as its other changes.
The adapter settles them once Telegram or Matrix accepted them; a crash in between leaves them
here, and the adapter sends them when it starts again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.messages import Link, Option, Reply
from bot.core.outages import through_outages
from bot.storage.delivery_journal import DeliveryJournal, close_journal, open_journal
from bot.storage.models import ProcessedEvent
from bot.storage.outages import is_database_outage

SETTLE_BATCH: Final = 500
"""Event ids in one UPDATE's IN list."""


def _whole(reply: Reply) -> list[Reply]:
    return [reply]


def reply_to_json(reply: Reply) -> dict[str, Any]:
    """A reply as JSON; an attachment is not kept (reports are made again on request)."""
    return {
        "text": reply.text,
        "language": reply.language,
        "title": reply.title,
        "links": [[link.label, link.url] for link in reply.links],
        "options": [[option.id, option.label] for option in reply.options],
        "topic_id": reply.topic_id,
    }


def reply_from_json(data: dict[str, Any]) -> Reply:
    return Reply(
        text=str(data["text"]),
        language=str(data["language"]),
        title=data.get("title"),
        links=tuple(Link(str(label), str(url)) for label, url in data.get("links", [])),
        options=tuple(Option(str(id_), str(label)) for id_, label in data.get("options", [])),
        topic_id=data.get("topic_id"),
    )


@dataclass(frozen=True, slots=True)
class Undelivered:
    """An event's replies that were stored but not confirmed delivered."""

    channel: str
    event_id: str
    address: str
    replies: list[Reply]


class SqlPendingReplies:
    """Settles delivered replies and finds the ones a crash or an outage left behind.

    With a journal (``open`` first), a delivery is recorded in a local file at once: a whole
    one is settled in the database in batches, a partial one only in the file (see
    delivery_journal.py). Without one, each delivery is its own transaction.
    """

    def __init__(self, engine: AsyncEngine, journal: Path | None = None) -> None:
        self._engine = engine
        self._journal = DeliveryJournal(journal, self._settle_all) if journal else None
        self._last_before_start: int | None = None
        """The newest event stored before ``open``; None when not opened (tests)."""

    async def open(self) -> None:
        """Settle what the journal noted before the last stop or crash, and mark where this
        run's events begin."""
        await open_journal(self._journal, "deliveries")
        async with self._engine.connect() as connection:
            newest = await connection.scalar(select(func.max(ProcessedEvent.id)))
        self._last_before_start = 0 if newest is None else int(newest)

    async def close(self) -> None:
        await close_journal(self._journal)

    async def settle(self, channel: str, event_id: str, remaining: Sequence[Reply] = ()) -> None:
        """Record that all but ``remaining`` of the event's replies were delivered."""
        if self._journal is not None and self._journal.recording:
            # The file's line is durable at once; a transaction here would hold the window
            # in which a crash sends the replies delivered so far again.
            if remaining:
                self._journal.partly_delivered(channel, event_id, len(remaining))
            else:
                self._journal.delivered(channel, event_id)
            return
        values: dict[str, Any] = (
            {"pending": [reply_to_json(reply) for reply in remaining]}
            if remaining
            else {"pending": None, "address": None}
        )

        async def attempt() -> None:
            async with self._engine.begin() as connection:
                await connection.execute(
                    update(ProcessedEvent)
                    .where(ProcessedEvent.channel == channel, ProcessedEvent.event_id == event_id)
                    .values(**values)
                )

        # A restart of the server must not turn a delivered reply into an apology, nor
        # leave it recorded as undelivered, to be sent again at the next start.
        await through_outages(attempt, is_database_outage)

    async def _settle_all(self, events: Sequence[tuple[str, str]]) -> None:
        by_channel: dict[str, list[str]] = {}
        for channel, event_id in events:
            by_channel.setdefault(channel, []).append(event_id)
        async with self._engine.begin() as connection:
            for channel, event_ids in by_channel.items():
                for start in range(0, len(event_ids), SETTLE_BATCH):
                    await connection.execute(
                        update(ProcessedEvent)
                        .where(
                            ProcessedEvent.channel == channel,
                            ProcessedEvent.event_id.in_(event_ids[start : start + SETTLE_BATCH]),
                        )
                        .values(pending=None, address=None)
                    )

    async def undelivered(
        self, channel: str, parts_of: Callable[[Reply], list[Reply]] = _whole
    ) -> list[Undelivered]:
        """The channel's events with replies still to deliver, oldest first: once opened,
        only those stored before ``open``, by an earlier run. ``parts_of`` cuts a reply into
        the parts the channel sends it in, which is what the journal counts.

        Matrix asks after its first sync, while it already answers new events. An event of
        this run that is committed but still being sent is not undelivered; listing it would
        send its replies twice.
        """
        if self._journal is not None and self._journal.recording:
            # What the journal holds is delivered.
            await self._journal.flush()
        query = (
            select(ProcessedEvent.event_id, ProcessedEvent.address, ProcessedEvent.pending)
            .where(ProcessedEvent.channel == channel, ProcessedEvent.pending.is_not(None))
            .order_by(ProcessedEvent.id)
        )
        if self._last_before_start is not None:
            query = query.where(ProcessedEvent.id <= self._last_before_start)
        async with self._engine.connect() as connection:
            rows = await connection.execute(query)
            return [
                Undelivered(
                    channel, event_id, address, self._left_of(channel, event_id, pending, parts_of)
                )
                for event_id, address, pending in rows
                if address is not None and pending
            ]

    def _left_of(
        self,
        channel: str,
        event_id: str,
        pending: list[Any],
        parts_of: Callable[[Reply], list[Reply]],
    ) -> list[Reply]:
        """The event's replies (in parts) still to send: the journal may know that the first
        parts went out."""
        left = self._journal.left(channel, event_id) if self._journal is not None else None
        replies = [reply_from_json(reply) for reply in pending]
        if left is None:
            return replies
        parts = [part for reply in replies for part in parts_of(reply)]
        return parts[max(0, len(parts) - left) :]

"""The retention job: what the bot keeps only for a while is deleted on schedule."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.storage.direct_sql import TransactionSql
from bot.storage.erasure import ERASED_PREFIX, unlink_contacts
from bot.storage.models import (
    Contact,
    ConversationStateRow,
    ProcessedEvent,
    Ticket,
    TicketMessage,
)
from bot.storage.person_tickets import CLOSED

log = logging.getLogger(__name__)
UNLINK_BATCH: Final = 200


@dataclass(frozen=True, slots=True)
class RetentionOutcome:
    """What one run removed or unlinked (counts only)."""

    states_cleared: int
    events_deleted: int
    contacts_unlinked: int
    tickets_cleared: int = 0
    """Closed tickets whose conversation and the person's address were deleted."""


async def purge(
    engine: AsyncEngine, now: datetime, retention: timedelta, zone: ZoneInfo
) -> RetentionOutcome:
    """Delete message texts and conversation state idle longer than ``retention``, forget
    handled event ids as old, and unlink the contacts of previous years from people."""
    cutoff = now - retention
    this_year = now.astimezone(zone).year
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as session, session.begin():
        # The question kept until a language is chosen is the only message text stored here.
        cleared = await session.execute(
            update(ConversationStateRow)
            .where(ConversationStateRow.updated_at < cutoff)
            .values(data={})
        )
        events = await session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.processed_at < cutoff)
        )
        # What people wrote to staff, and where to reach them, goes with the closed case.
        old_tickets = list(
            await session.scalars(
                select(Ticket.id).where(
                    Ticket.status == CLOSED,
                    Ticket.closed_at < cutoff,
                    Ticket.address.is_not(None),
                )
            )
        )
        if old_tickets:
            await session.execute(
                delete(TicketMessage).where(TicketMessage.ticket_id.in_(old_tickets))
            )
            await session.execute(
                update(Ticket).where(Ticket.id.in_(old_tickets)).values(address=None)
            )
        keys = list(
            await session.scalars(
                select(Contact.person_key)
                .where(
                    Contact.started_at < datetime(this_year, 1, 1, tzinfo=zone),
                    ~Contact.person_key.startswith(ERASED_PREFIX),
                )
                .distinct()
            )
        )
    # In January this is every person of last year: batches keep each transaction short, so
    # messages are not held up behind it.
    unlinked = 0
    for first in range(0, len(keys), UNLINK_BATCH):
        async with sessions() as session, session.begin():
            sql = TransactionSql(await session.connection())
            for key in keys[first : first + UNLINK_BATCH]:
                unlinked += await unlink_contacts(sql, key, zone, before_year=this_year)
    outcome = RetentionOutcome(
        cleared.rowcount or 0,  # type: ignore[attr-defined]
        events.rowcount or 0,  # type: ignore[attr-defined]
        unlinked,
        len(old_tickets),
    )
    log.info(
        "retention: %d conversation states cleared, %d event ids deleted, %d contacts "
        "unlinked, %d closed tickets cleared",
        outcome.states_cleared,
        outcome.events_deleted,
        outcome.contacts_unlinked,
        outcome.tickets_cleared,
    )
    return outcome

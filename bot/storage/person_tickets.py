"""Tickets in the database, the person's side: called inside the transaction of the
person's own message (opening, adding to, closing and rating their ticket, erasure)."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.tickets import Author, NewTicket, RatingOutcome, TicketLine, TicketReason
from bot.storage.models import Ticket, TicketMessage

OPEN: Final = "open"
CLOSED: Final = "closed"


async def open_ticket(session: AsyncSession, new: NewTicket, now: datetime) -> int:
    ticket = Ticket(
        person_key=new.person_key,
        channel=new.channel,
        address=new.address,
        language=new.language,
        priority=new.priority,
        reason=new.reason.value,
        topics=list(new.topics),
        status=OPEN,
        opened_at=now,
        # A priority ticket's card is itself the first alarm: reminders follow from here.
        reminded_at=now if new.priority else None,
    )
    session.add(ticket)
    await session.flush()
    if new.first_line:
        session.add(message_row(ticket.id, TicketLine(now, Author.PERSON, new.first_line)))
    return ticket.id


async def add_line(session: AsyncSession, number: int, line: TicketLine) -> None:
    session.add(message_row(number, line))


async def raise_priority(session: AsyncSession, number: int, now: datetime) -> None:
    await session.execute(
        update(Ticket)
        .where(Ticket.id == number, ~Ticket.priority)
        .values(priority=True, reason=TicketReason.DANGER.value, reminded_at=now)
    )


async def close_by_person(session: AsyncSession, number: int, now: datetime) -> None:
    await session.execute(
        update(Ticket)
        .where(Ticket.id == number, Ticket.status == OPEN)
        .values(status=CLOSED, closed_at=now, closed_by="person")
    )


async def rate_ticket(session: AsyncSession, number: int, person_key: str) -> RatingOutcome:
    """Accept one 👍/👎 for the person's own ticket, once staff closed it."""
    own_and_closed = (Ticket.id == number, Ticket.person_key == person_key, Ticket.status == CLOSED)
    result = await session.execute(
        update(Ticket).where(*own_and_closed, ~Ticket.rated).values(rated=True)
    )
    if result.rowcount:  # type: ignore[attr-defined]
        return RatingOutcome.RATED
    # Someone else's ticket, or one still open, is not "already rated": saying so would
    # tell a forged button's sender something about a ticket that is not theirs.
    rated_before = await session.scalar(select(Ticket.id).where(*own_and_closed))
    return RatingOutcome.NOT_RATEABLE if rated_before is None else RatingOutcome.ALREADY_RATED


async def erase_tickets(
    session: AsyncSession, person_key: str, new_key: str, now: datetime
) -> None:
    """/forget: close the person's tickets and drop what they wrote and where they were;
    the tickets themselves stay (unlinked), so the counts of cases do not change."""
    numbers = list(await session.scalars(select(Ticket.id).where(Ticket.person_key == person_key)))
    if not numbers:
        return
    await session.execute(
        update(Ticket)
        .where(Ticket.id.in_(numbers), Ticket.status == OPEN)
        .values(status=CLOSED, closed_at=now, closed_by="person")
    )
    await session.execute(
        update(Ticket)
        .where(Ticket.id.in_(numbers))
        .values(person_key=new_key, address=None, topics=[])
    )
    await session.execute(delete(TicketMessage).where(TicketMessage.ticket_id.in_(numbers)))


def message_row(number: int, line: TicketLine) -> TicketMessage:
    return TicketMessage(
        ticket_id=number,
        at=line.at,
        author=line.author.value,
        staff_name=line.staff_name,
        text=line.text,
        delivery=line.delivery.value if line.delivery else None,
        failure=line.failure,
    )

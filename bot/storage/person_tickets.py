"""Tickets in the database, the person's side: called inside the transaction of the
person's own message (opening, adding to, closing and rating their ticket, erasure)."""

from __future__ import annotations

from datetime import datetime
from typing import Final, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update

from bot.core.tickets import Author, NewTicket, RatingOutcome, TicketLine, TicketReason
from bot.storage.direct_sql import TransactionSql
from bot.storage.models import Ticket, TicketMessage

OPEN: Final = "open"
CLOSED: Final = "closed"

_TICKETS: Final = cast(Table, Ticket.__table__)
_LINES: Final = cast(Table, TicketMessage.__table__)
_NUMBER: Final = _TICKETS.c.id == bindparam("number")

_OPEN: Final = insert(_TICKETS).returning(_TICKETS.c.id)
_ADD_LINE: Final = insert(_LINES)
_RAISE: Final = (
    update(_TICKETS)
    .where(_NUMBER, ~_TICKETS.c.priority)
    .values(priority=True, reason=TicketReason.DANGER.value, reminded_at=bindparam("now"))
)
_CLOSED_BY_PERSON: Final = {"status": CLOSED, "closed_at": bindparam("now"), "closed_by": "person"}
_CLOSE: Final = update(_TICKETS).where(_NUMBER, _TICKETS.c.status == OPEN).values(_CLOSED_BY_PERSON)
_OWN_AND_CLOSED: Final = (
    _NUMBER,
    _TICKETS.c.person_key == bindparam("key"),
    _TICKETS.c.status == CLOSED,
)
_RATE: Final = (
    update(_TICKETS)
    .where(*_OWN_AND_CLOSED, ~_TICKETS.c.rated)
    .values(rated=True)
    .returning(_TICKETS.c.id)
)
_RATEABLE: Final = select(_TICKETS.c.id).where(*_OWN_AND_CLOSED)
_PERSONS: Final = _TICKETS.c.person_key == bindparam("key")
_CLOSE_ALL: Final = (
    update(_TICKETS).where(_PERSONS, _TICKETS.c.status == OPEN).values(_CLOSED_BY_PERSON)
)
_DROP_LINES: Final = delete(_LINES).where(
    _LINES.c.ticket_id.in_(select(_TICKETS.c.id).where(_PERSONS))
)
_UNLINK: Final = (
    update(_TICKETS)
    .where(_PERSONS)
    .values(person_key=bindparam("new_key"), address=None, topics=[])
)


async def open_ticket(sql: TransactionSql, new: NewTicket, now: datetime) -> int:
    created = await sql.scalar(
        _OPEN,
        {
            "person_key": new.person_key,
            "channel": new.channel,
            "address": new.address,
            "language": new.language,
            "priority": new.priority,
            "reason": new.reason.value,
            "topics": list(new.topics),
            "status": OPEN,
            "opened_at": now,
            # A priority ticket's card is itself the first alarm: reminders follow from here.
            "reminded_at": now if new.priority else None,
        },
    )
    if created is None:
        raise RuntimeError("INSERT … RETURNING gave no ticket number")
    number = int(created)
    if new.first_line:
        await add_line(sql, number, TicketLine(now, Author.PERSON, new.first_line))
    return number


async def add_line(sql: TransactionSql, number: int, line: TicketLine) -> None:
    await sql.execute(_ADD_LINE, _line_values(number, line))


async def raise_priority(sql: TransactionSql, number: int, now: datetime) -> None:
    await sql.execute(_RAISE, {"number": number, "now": now})


async def close_by_person(sql: TransactionSql, number: int, now: datetime) -> None:
    await sql.execute(_CLOSE, {"number": number, "now": now})


async def rate_ticket(sql: TransactionSql, number: int, person_key: str) -> RatingOutcome:
    """Accept one 👍/👎 for the person's own ticket, once staff closed it."""
    own = {"number": number, "key": person_key}
    if await sql.scalar(_RATE, own) is not None:
        return RatingOutcome.RATED
    # Someone else's ticket, or one still open, is not "already rated": saying so would
    # tell a forged button's sender something about a ticket that is not theirs.
    rated_before = await sql.scalar(_RATEABLE, own)
    return RatingOutcome.NOT_RATEABLE if rated_before is None else RatingOutcome.ALREADY_RATED


async def erase_tickets(sql: TransactionSql, person_key: str, new_key: str, now: datetime) -> None:
    """/forget: close the person's tickets and drop what they wrote and where they were;
    the tickets themselves stay (unlinked), so the counts of cases do not change."""
    await sql.execute(_CLOSE_ALL, {"key": person_key, "now": now})
    await sql.execute(_DROP_LINES, {"key": person_key})
    await sql.execute(_UNLINK, {"key": person_key, "new_key": new_key})


def _line_values(number: int, line: TicketLine) -> dict[str, object]:
    return {
        "ticket_id": number,
        "at": line.at,
        "author": line.author.value,
        "staff_name": line.staff_name,
        "text": line.text,
        "delivery": line.delivery.value if line.delivery else None,
        "failure": line.failure,
    }


def message_row(number: int, line: TicketLine) -> TicketMessage:
    """The line as an ORM object, for the staff side's session (tickets.py)."""
    return TicketMessage(**_line_values(number, line))

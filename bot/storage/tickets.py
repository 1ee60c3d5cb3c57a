"""Tickets in the database, the staff's side: SqlTicketStore, a transaction per call (the
person's side is in person_tickets.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.core.tickets import (
    Author,
    Delivery,
    EventKey,
    PersonAddress,
    RepeatedEventError,
    StaffMember,
    TakeOutcome,
    TicketLine,
    TicketReason,
    TicketView,
)
from bot.storage import event_claims
from bot.storage.contacts import aware
from bot.storage.direct_sql import TransactionSql
from bot.storage.models import ConversationStateRow, Person, Ticket, TicketMessage
from bot.storage.outages import waits_out_outages
from bot.storage.person_tickets import CLOSED, OPEN, message_row
from bot.storage.staff_replies import StaffAnswerLedger
from bot.storage.ticket_cards import BoardCards


class SqlTicketStore:
    """The TicketStore port on SQLAlchemy."""

    def __init__(
        self,
        engine: AsyncEngine,
        contact_gap: timedelta,
        zone: ZoneInfo,
        answers_journal: Path | None = None,
    ) -> None:
        """``answers_journal``: where staff answers' deliveries are noted at once (a file
        under the var directory); without one each is settled by its transaction alone."""
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._answers = StaffAnswerLedger(engine, contact_gap, zone, answers_journal)

    def cards(self, board: str, chat: str) -> BoardCards:
        """Which messages of a board's chat show which ticket, and what the cards show."""
        return BoardCards(self._engine, board, chat)

    async def dispose(self) -> None:
        """Close the engine's connections (for a store that owns its engine)."""
        await self._engine.dispose()

    @waits_out_outages
    async def view(self, number: int) -> TicketView | None:
        async with self._sessions() as session:
            ticket = await session.get(Ticket, number)
            return None if ticket is None else await _view(session, ticket, history=True)

    @waits_out_outages
    async def open_tickets(self) -> list[TicketView]:
        async with self._sessions() as session:
            tickets = await session.scalars(
                select(Ticket)
                .where(Ticket.status == OPEN)
                .order_by(Ticket.priority.desc(), Ticket.opened_at, Ticket.id)
            )
            return [await _view(session, ticket, history=False) for ticket in tickets]

    @waits_out_outages
    async def take(
        self, number: int, staff: StaffMember, now: datetime
    ) -> tuple[TakeOutcome, TicketView | None]:
        async with self._sessions() as session, session.begin():
            # One conditional UPDATE: of two staff pressing Take at once, exactly one matches.
            taken = await session.execute(
                update(Ticket)
                .where(Ticket.id == number, Ticket.status == OPEN, Ticket.assignee.is_(None))
                .values(assignee=staff.id, assignee_name=staff.name, taken_at=now)
            )
            ticket = await session.get(Ticket, number, populate_existing=True)
            if ticket is None:
                return TakeOutcome.NOT_FOUND, None
            view = await _view(session, ticket, history=False)
            if taken.rowcount or _taken_at(ticket, staff, now):  # type: ignore[attr-defined]
                return TakeOutcome.TAKEN, view
            if ticket.status != OPEN:
                return TakeOutcome.NOT_OPEN, view
            if ticket.assignee == staff.id:
                return TakeOutcome.ALREADY_YOURS, view
            return TakeOutcome.TAKEN_BY_OTHER, view

    @waits_out_outages
    async def release(self, number: int, staff: StaffMember) -> TicketView | None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(Ticket)
                .where(Ticket.id == number, Ticket.status == OPEN)
                .values(assignee=None, assignee_name=None, taken_at=None, reminded_at=None)
            )
            ticket = await session.get(Ticket, number, populate_existing=True)
            return None if ticket is None else await _view(session, ticket, history=False)

    @waits_out_outages
    async def close(self, number: int, now: datetime) -> TicketView | None:
        async with self._sessions() as session, session.begin():
            closed = await session.execute(
                update(Ticket)
                .where(Ticket.id == number, Ticket.status == OPEN)
                # The question is stored with the closing: a crash before it goes out
                # must not lose it, and the closing is not done again after a restart.
                .values(
                    status=CLOSED,
                    closed_at=now,
                    closed_by="staff",
                    question_pending=True,
                    reopen_notice_pending=False,  # closed again: the question says so
                )
            )
            ticket = await session.get(Ticket, number, populate_existing=True)
            if ticket is None:
                return None
            if not closed.rowcount:  # type: ignore[attr-defined]
                if not _closed_at(ticket, now):
                    return None
                return await _view(session, ticket, history=False)
            await session.execute(
                update(Person)
                .where(Person.key == ticket.person_key, Person.ticket_id == number)
                .values(ticket_id=None)
            )
            return await _view(session, ticket, history=False)

    @waits_out_outages
    async def offer(self, number: int, options: list[list[str]], now: datetime) -> None:
        async with self._sessions() as session, session.begin():
            person_id = await session.scalar(
                select(Person.id)
                .join(Ticket, Ticket.person_key == Person.key)
                .where(Ticket.id == number)
                # A message in hand holds this lock and writes the whole state when it ends:
                # wait for it, so the options are added to what it wrote, not lost under it.
                .with_for_update(of=Person)
            )
            state = await session.get(ConversationStateRow, person_id) if person_id else None
            if state is None:
                return  # erased meanwhile
            state.data = {**state.data, "last_options": options}
            state.updated_at = now

    @waits_out_outages
    async def reopen(self, number: int, now: datetime) -> TicketView | int | None:
        async with self._sessions() as session, session.begin():
            ticket = await session.get(Ticket, number)
            if ticket is None or ticket.status != CLOSED or ticket.address is None:
                return None
            person = await session.scalar(select(Person).where(Person.key == ticket.person_key))
            if person is None:
                return None  # the person asked to be forgotten meanwhile
            if person.ticket_id is not None and person.ticket_id != number:
                return person.ticket_id
            ticket.status, ticket.closed_at, ticket.closed_by = OPEN, None, None
            ticket.rated = ticket.question_pending = False  # open again: nothing to rate
            # Stored with the reopening, like the closing's question: a crash before the
            # person is told must not leave them thinking their request is closed.
            ticket.reopen_notice_pending = True
            person.ticket_id = number
            await session.flush()
            return await _view(session, ticket, history=False)

    @waits_out_outages
    async def add_staff_reply(
        self,
        number: int,
        staff: StaffMember,
        text: str,
        now: datetime,
        event: EventKey | None = None,
    ) -> int | None:
        async with self._sessions() as session, session.begin():
            connection = await session.connection()
            claim: int | None = None
            if event is not None:
                claim = await event_claims.claim(TransactionSql(connection), *event, now)
                if claim is None:
                    line = await event_claims.staff_line(connection, *event)
                    raise RepeatedEventError(event[1], line)
            ticket = await session.get(Ticket, number)
            if ticket is None or ticket.status != OPEN:
                return None
            if ticket.assignee is None:
                ticket.assignee, ticket.assignee_name, ticket.taken_at = staff.id, staff.name, now
            row = message_row(
                number,
                TicketLine(now, Author.STAFF, text, staff.name, Delivery.PENDING),
            )
            session.add(row)
            await session.flush()
            if claim is not None:
                await event_claims.note_staff_line(connection, claim, row.id)
            return row.id

    async def open_journal(self) -> None:
        """Settle the staff answers noted as delivered before the last stop or crash."""
        await self._answers.open()

    async def close_journal(self) -> None:
        await self._answers.close()

    async def settle_delivery(
        self, line_id: int, failure: str | None, unreachable: bool, now: datetime
    ) -> None:
        await self._answers.settle(line_id, failure, unreachable, now)

    async def pending_replies(self) -> list[tuple[int, int, str]]:
        return await self._answers.pending()

    async def pending_reply(self, line_id: int) -> tuple[int, str] | None:
        return await self._answers.pending_one(line_id)

    async def question_pending(self, number: int) -> bool:
        return await self._answers.question_pending(number)

    async def pending_questions(self) -> list[int]:
        return await self._answers.pending_questions()

    async def question_asked(self, number: int) -> None:
        await self._answers.question_asked(number)

    async def reopen_notice_pending(self, number: int) -> bool:
        return await self._answers.reopen_notice_pending(number)

    async def pending_reopen_notices(self) -> list[int]:
        return await self._answers.pending_reopen_notices()

    async def reopen_notice_sent(self, number: int) -> None:
        await self._answers.reopen_notice_sent(number)

    @waits_out_outages
    async def address(self, number: int) -> PersonAddress | None:
        async with self._sessions() as session:
            ticket = await session.get(Ticket, number)
            if ticket is None or ticket.address is None:
                return None
            return PersonAddress(ticket.channel, ticket.address, ticket.language)

    @waits_out_outages
    async def due_reminders(
        self, now: datetime, waiting: float, urgent_every: float, office_open: bool
    ) -> list[TicketView]:
        urgent_due = and_(
            Ticket.priority,
            or_(
                Ticket.reminded_at.is_(None),
                Ticket.reminded_at <= now - timedelta(seconds=urgent_every),
            ),
        )
        normal_due = and_(
            ~Ticket.priority,
            Ticket.opened_at <= now - timedelta(seconds=waiting),
            or_(
                Ticket.reminded_at.is_(None),
                Ticket.reminded_at <= now - timedelta(seconds=waiting),
            ),
        )
        async with self._sessions() as session, session.begin():
            tickets = list(
                await session.scalars(
                    select(Ticket)
                    .where(
                        Ticket.status == OPEN,
                        Ticket.assignee.is_(None),
                        or_(urgent_due, normal_due) if office_open else urgent_due,
                    )
                    .order_by(Ticket.priority.desc(), Ticket.opened_at)
                )
            )
            for ticket in tickets:
                ticket.reminded_at = now
            return [await _view(session, ticket, history=False) for ticket in tickets]


# A call retried after an outage gets the same ``now``. When the outage came during COMMIT, the
# first attempt may have been kept; the retry then finds the ticket changed at exactly that
# moment, by itself, and must say so rather than "not open" or "already yours".


def _closed_at(ticket: Ticket, now: datetime) -> bool:
    """Whether staff closed the ticket at ``now``: the same call's earlier attempt."""
    closed_at = ticket.closed_at
    by_staff = ticket.status == CLOSED and ticket.closed_by == "staff"
    return by_staff and closed_at is not None and aware(closed_at) == now


def _taken_at(ticket: Ticket, staff: StaffMember, now: datetime) -> bool:
    """Whether ``staff`` took the ticket at ``now``: the same call's earlier attempt."""
    taken_at = ticket.taken_at
    return ticket.assignee == staff.id and taken_at is not None and aware(taken_at) == now


async def _view(session: AsyncSession, ticket: Ticket, *, history: bool) -> TicketView:
    """The ticket for staff; with ``history``, its conversation and the person's other
    tickets too (for a card), else the summary that lists and command answers need."""
    lines: Sequence[TicketMessage] = ()
    earlier: tuple[int, ...] = ()
    if history:
        lines = (
            await session.scalars(
                select(TicketMessage)
                .where(TicketMessage.ticket_id == ticket.id)
                .order_by(TicketMessage.id)
            )
        ).all()
        earlier = tuple(
            await session.scalars(
                select(Ticket.id)
                .where(Ticket.person_key == ticket.person_key, Ticket.id != ticket.id)
                .order_by(Ticket.id.desc())
            )
        )
    assignee = (
        StaffMember(ticket.assignee, ticket.assignee_name or "?") if ticket.assignee else None
    )
    return TicketView(
        number=ticket.id,
        channel=ticket.channel,
        language=ticket.language,
        priority=ticket.priority,
        reason=TicketReason(ticket.reason),
        topics=tuple(ticket.topics or ()),
        open=ticket.status == OPEN,
        opened_at=aware(ticket.opened_at),
        assignee=assignee,
        closed_by=ticket.closed_by,
        unreachable=ticket.unreachable,
        lines=tuple(
            TicketLine(
                aware(line.at),
                Author(line.author),
                line.text,
                line.staff_name,
                Delivery(line.delivery) if line.delivery else None,
                line.failure,
            )
            for line in lines
        ),
        earlier=earlier,
    )

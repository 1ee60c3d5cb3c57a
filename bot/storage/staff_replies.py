"""What staff send a person, delivered once: settled in the database, first noted in a journal.

A staff answer is stored as pending before it is sent, and so are the "did we help?" question
of a closing and the notice of a reopening; what is still pending at start is sent then
(``StaffDesk.retry_pending``). Settling it after the send took a transaction, so a kill -9
or a database restart in between made the next start send it twice. The journal (see
delivery_journal.py) notes the delivery before the first await after the send; at start it
is read back before anything is resent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.core.outages import through_outages
from bot.core.ports import ContactNote
from bot.core.tickets import Delivery
from bot.storage.contacts import record_contact
from bot.storage.delivery_journal import DeliveryJournal, close_journal, open_journal
from bot.storage.direct_sql import TransactionSql
from bot.storage.models import Person, Ticket, TicketMessage
from bot.storage.outages import is_database_outage, waits_out_outages

FAILURE_LIMIT: Final = 255
JOURNAL_KIND: Final = "staff-answer"
"""The journal's first field for a staff answer's line id (its second field)."""
QUESTION_KIND: Final = "closing-question"
"""The journal's first field for the ticket whose closing question was asked."""
REOPEN_KIND: Final = "reopen-notice"
"""The journal's first field for the ticket whose person was told it is open again."""
_NOTICES: Final = {
    QUESTION_KIND: Ticket.question_pending,
    REOPEN_KIND: Ticket.reopen_notice_pending,
}
"""What staff did to a ticket that the person is told of, and the flag stored with it."""


class StaffAnswerLedger:
    """Settles staff answers' deliveries and finds those a crash left pending."""

    def __init__(
        self,
        engine: AsyncEngine,
        contact_gap: timedelta,
        zone: ZoneInfo,
        journal: Path | None = None,
    ) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._contact_gap = contact_gap
        self._zone = zone
        self._journal = DeliveryJournal(journal, self._settle_noted) if journal else None

    async def open(self) -> None:
        """Settle what the journal noted before the last stop or crash."""
        await open_journal(self._journal, "staff answers")

    async def close(self) -> None:
        await close_journal(self._journal)

    async def settle(
        self, line_id: int, failure: str | None, unreachable: bool, now: datetime
    ) -> None:
        """Mark a pending answer delivered (and its person helped), or failed with the reason."""
        if failure is None and self._journal is not None and self._journal.recording:
            # Before any await: from here on a crash cannot make the next start resend it.
            self._journal.delivered(JOURNAL_KIND, str(line_id))

        async def attempt() -> None:
            async with self._sessions() as session, session.begin():
                await self._settle_line(session, line_id, failure, unreachable, now)

        # A database restart must not leave a delivered answer pending, to be sent again.
        await through_outages(attempt, is_database_outage)

    @waits_out_outages
    async def pending(self) -> list[tuple[int, int, str]]:
        """Answers stored but never settled: (line id, ticket, text)."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(TicketMessage.id, TicketMessage.ticket_id, TicketMessage.text)
                .where(TicketMessage.delivery == Delivery.PENDING.value)
                .order_by(TicketMessage.id)
            )
            return [(line_id, number, text) for line_id, number, text in rows]

    @waits_out_outages
    async def pending_one(self, line_id: int) -> tuple[int, str] | None:
        """The ticket and text of one answer while it is pending."""
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(TicketMessage.ticket_id, TicketMessage.text).where(
                        TicketMessage.id == line_id,
                        TicketMessage.delivery == Delivery.PENDING.value,
                    )
                )
            ).first()
            return None if row is None else (row.ticket_id, row.text)

    async def question_asked(self, number: int) -> None:
        """The closing question of ticket ``number`` went out (or cannot): not to be sent
        again."""
        await self._notice_settled(QUESTION_KIND, number)

    async def question_pending(self, number: int) -> bool:
        return await self._notice_pending(QUESTION_KIND, number)

    async def pending_questions(self) -> list[int]:
        """Tickets whose closing question a crash kept from going out."""
        return await self._pending_notices(QUESTION_KIND)

    async def reopen_notice_sent(self, number: int) -> None:
        """The person of ticket ``number`` was told it is open again (or cannot be)."""
        await self._notice_settled(REOPEN_KIND, number)

    async def reopen_notice_pending(self, number: int) -> bool:
        return await self._notice_pending(REOPEN_KIND, number)

    async def pending_reopen_notices(self) -> list[int]:
        """Tickets whose reopening a crash kept from being told to the person."""
        return await self._pending_notices(REOPEN_KIND)

    async def _notice_settled(self, kind: str, number: int) -> None:
        if self._journal is not None and self._journal.recording:
            self._journal.delivered(kind, str(number))

        async def attempt() -> None:
            async with self._sessions() as session, session.begin():
                await _notice_settled(session, kind, number)

        await through_outages(attempt, is_database_outage)

    @waits_out_outages
    async def _notice_pending(self, kind: str, number: int) -> bool:
        async with self._sessions() as session:
            pending = await session.scalar(select(_NOTICES[kind]).where(Ticket.id == number))
            return bool(pending)

    @waits_out_outages
    async def _pending_notices(self, kind: str) -> list[int]:
        async with self._sessions() as session:
            found = await session.scalars(
                select(Ticket.id).where(_NOTICES[kind]).order_by(Ticket.id)
            )
            return list(found)

    async def _settle_noted(self, noted: Sequence[tuple[str, str]]) -> None:
        """The journal's batch: normally settled already, after a crash not yet."""
        now = datetime.now(UTC)
        async with self._sessions() as session, session.begin():
            for kind, key in noted:
                if kind == JOURNAL_KIND:
                    await self._settle_line(session, int(key), None, False, now)
                elif kind in _NOTICES:
                    await _notice_settled(session, kind, int(key))

    async def _settle_line(
        self,
        session: AsyncSession,
        line_id: int,
        failure: str | None,
        unreachable: bool,
        now: datetime,
    ) -> None:
        # Only a pending line: the journal's batch normally finds the answer settled already
        # and must leave it as it is (on PostgreSQL the second of two racing updates waits for
        # the first and then finds nothing to do).
        settled = await session.execute(
            update(TicketMessage)
            .where(TicketMessage.id == line_id, TicketMessage.delivery == Delivery.PENDING.value)
            .values(
                delivery=(Delivery.FAILED if failure else Delivery.DELIVERED).value,
                failure=failure[:FAILURE_LIMIT] if failure else None,
            )
        )
        if not settled.rowcount:  # type: ignore[attr-defined]
            return
        ticket = await session.scalar(
            select(Ticket).join(TicketMessage).where(TicketMessage.id == line_id)
        )
        if ticket is None:
            return
        if unreachable:
            ticket.unreachable = True
        if failure is None:
            ticket.unreachable = False
            await self._count_help(session, ticket, now)

    async def _count_help(self, session: AsyncSession, ticket: Ticket, now: datetime) -> None:
        """A staff reply that reached the person makes them a beneficiary (README)."""
        person = await session.scalar(select(Person).where(Person.key == ticket.person_key))
        if person is None:
            return
        note = ContactNote(ticket.language, handed_off=True, staff_helped=True)
        await record_contact(
            TransactionSql(await session.connection()),
            person,
            note,
            now=now,
            gap=self._contact_gap,
            zone=self._zone,
        )


async def _notice_settled(session: AsyncSession, kind: str, number: int) -> None:
    await session.execute(update(Ticket).where(Ticket.id == number).values({_NOTICES[kind]: False}))

"""The SQLAlchemy implementation of the dialogue's ConversationStore port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.core.messages import Reply
from bot.core.ports import AssessmentNote, ContactNote, ConversationState, PersonRecord
from bot.core.tickets import NewTicket, TicketLine
from bot.storage import person_tickets
from bot.storage.contacts import record_contact
from bot.storage.erasure import random_key, unlink_contacts
from bot.storage.models import (
    Assessment,
    ConversationStateRow,
    Person,
    ProcessedEvent,
)
from bot.storage.outages import is_database_outage
from bot.storage.pending_replies import reply_to_json

WARSAW: Final = ZoneInfo("Europe/Warsaw")
DEFAULT_CONTACT_GAP: Final = timedelta(minutes=30)
"""Messages closer together than this belong to one contact (the README's counting rules)."""


class SqlConversation:
    """One transaction's view of people, their state, contacts and processed events."""

    def __init__(self, session: AsyncSession, contact_gap: timedelta, zone: ZoneInfo) -> None:
        self._session = session
        self._contact_gap = contact_gap
        self._zone = zone
        self._rows: dict[str, tuple[Person, ConversationStateRow]] = {}
        self._claimed: ProcessedEvent | None = None

    async def claim_event(self, channel: str, event_id: str, now: datetime) -> bool:
        claimed = ProcessedEvent(channel=channel, event_id=event_id, processed_at=now)
        try:
            # A savepoint, so a duplicate leaves the surrounding transaction usable.
            async with self._session.begin_nested():
                self._session.add(claimed)
        except IntegrityError:
            return False
        self._claimed = claimed
        return True

    async def hold_replies(self, address: str, replies: Sequence[Reply]) -> None:
        if self._claimed is None:
            raise RuntimeError("hold_replies needs an event claimed in this unit of work")
        self._claimed.address = address
        self._claimed.pending = [reply_to_json(reply) for reply in replies]

    async def load_person(self, key: str, channel: str, now: datetime) -> PersonRecord:
        person = await self._session.scalar(select(Person).where(Person.key == key))
        if person is None:
            person = Person(
                key=key,
                channel=channel,
                language=None,
                language_explicit=False,
                created_at=now,
                last_seen_at=now,
            )
            self._session.add(person)
            await self._session.flush()
        state_row = await self._session.get(ConversationStateRow, person.id)
        if state_row is None:
            state_row = ConversationStateRow(
                person_id=person.id, step="new", data={}, updated_at=now
            )
            self._session.add(state_row)
        self._rows[key] = (person, state_row)
        data = state_row.data
        state = ConversationState(
            step=state_row.step,
            pending_text=_str_or_none(data.get("pending_text")),
            last_options=_option_pairs(data.get("last_options")),
            rated=_strings(data.get("rated")),
            unanswered=_int(data.get("unanswered")),
            last_question=_str_or_none(data.get("last_question")),
            awaiting_summary=_str_or_none(data.get("awaiting_summary")),
        )
        return PersonRecord(
            key=key,
            language=person.language,
            state=state,
            language_explicit=person.language_explicit,
            ticket=person.ticket_id,
        )

    async def save_person(self, person: PersonRecord, now: datetime) -> None:
        row, state_row = self._rows[person.key]
        row.language = person.language
        row.language_explicit = person.language_explicit
        row.last_seen_at = now
        row.ticket_id = person.ticket
        state = person.state
        state_row.step = state.step
        state_row.data = {
            "pending_text": state.pending_text,
            "last_options": state.last_options,
            "rated": state.rated,
            "unanswered": state.unanswered,
            "last_question": state.last_question,
            "awaiting_summary": state.awaiting_summary,
        }
        state_row.updated_at = now

    async def record_contact(
        self, key: str, channel: str, note: ContactNote, now: datetime
    ) -> None:
        person, _ = self._rows[key]  # loaded by load_person earlier in this transaction
        await record_contact(
            self._session, person, note, now=now, gap=self._contact_gap, zone=self._zone
        )

    async def erase_person(self, key: str, now: datetime) -> None:
        person = await self._session.scalar(select(Person).where(Person.key == key))
        if person is not None:
            await self._session.execute(
                delete(ConversationStateRow).where(ConversationStateRow.person_id == person.id)
            )
            await self._session.delete(person)
        await unlink_contacts(self._session, key, self._zone)
        await person_tickets.erase_tickets(self._session, key, random_key(), now)

    async def open_ticket(self, ticket: NewTicket, now: datetime) -> int:
        return await person_tickets.open_ticket(self._session, ticket, now)

    async def add_ticket_line(self, number: int, line: TicketLine) -> None:
        await person_tickets.add_line(self._session, number, line)

    async def raise_ticket_priority(self, number: int, now: datetime) -> None:
        await person_tickets.raise_priority(self._session, number, now)

    async def close_own_ticket(self, number: int, now: datetime) -> None:
        await person_tickets.close_by_person(self._session, number, now)

    async def rate_ticket(self, number: int, key: str) -> bool:
        return await person_tickets.rate_ticket(self._session, number, key)

    async def record_assessment(self, note: AssessmentNote, now: datetime) -> None:
        self._session.add(
            Assessment(
                created_at=now, positive=note.positive, subject=note.subject, topic_id=note.topic_id
            )
        )


class SqlConversationStore:
    """Opens one session and transaction per inbound event."""

    def __init__(
        self,
        engine: AsyncEngine,
        contact_gap: timedelta = DEFAULT_CONTACT_GAP,
        zone: ZoneInfo = WARSAW,
    ) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._contact_gap = contact_gap
        self._zone = zone

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[SqlConversation]:
        async with self._sessions() as session, session.begin():
            yield SqlConversation(session, self._contact_gap, self._zone)

    def is_outage(self, error: BaseException) -> bool:
        return is_database_outage(error)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


def _strings(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _option_pairs(value: object) -> list[list[str]]:
    if not isinstance(value, list):
        return []
    return [
        [str(pair[0]), str(pair[1])] for pair in value if isinstance(pair, list) and len(pair) == 2
    ]

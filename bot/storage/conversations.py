"""The SQLAlchemy implementation of the dialogue's ConversationStore port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, Final, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.messages import Reply
from bot.core.ports import (
    Address,
    AssessmentNote,
    ContactNote,
    ConversationState,
    PersonRecord,
)
from bot.core.tickets import NewTicket, RatingOutcome, TicketLine
from bot.storage import event_claims, event_start, person_rows, person_tickets
from bot.storage.contacts import record_contact
from bot.storage.database import MESSAGE_CONNECTIONS
from bot.storage.direct_sql import TransactionSql
from bot.storage.driver_transactions import DriverTransactions
from bot.storage.erasure import random_key, unlink_contacts
from bot.storage.models import (
    Assessment,
    ConversationStateRow,
    Person,
    ProcessedEvent,
)
from bot.storage.outages import is_database_outage
from bot.storage.pending_replies import reply_to_json
from bot.storage.person_rows import PersonRow

WARSAW: Final = ZoneInfo("Europe/Warsaw")
DEFAULT_CONTACT_GAP: Final = timedelta(minutes=30)
"""Messages closer together than this belong to one contact (the README's counting rules)."""


_EVENTS: Final = cast(Table, ProcessedEvent.__table__)
_PEOPLE: Final = cast(Table, Person.__table__)
_STATES: Final = cast(Table, ConversationStateRow.__table__)
_FORGET_UNDELIVERED: Final = (
    update(_EVENTS)
    .where(_EVENTS.c.channel == bindparam("event_channel"), _EVENTS.c.address == bindparam("chat"))
    .values(pending=None, address=None)
)
_PERSON_ID: Final = select(_PEOPLE.c.id).where(_PEOPLE.c.key == bindparam("key"))
_DROP_STATE: Final = delete(_STATES).where(_STATES.c.person_id == bindparam("person"))
_DROP_PERSON: Final = delete(_PEOPLE).where(_PEOPLE.c.id == bindparam("person"))
_ASSESS: Final = insert(cast(Table, Assessment.__table__))


class SqlConversation:
    """One transaction's view of people, their state, contacts, tickets and processed events.

    Everything is plain SQL on the transaction (``TransactionSql``), which on PostgreSQL is
    psycopg's own connection; the person's row is written once, when the transaction ends
    (``flush``).
    """

    def __init__(self, sql: TransactionSql, contact_gap: timedelta, zone: ZoneInfo) -> None:
        self._sql = sql
        self._contact_gap = contact_gap
        self._zone = zone
        self._person: PersonRow | None = None
        self._changed: datetime | None = None
        """When the loaded person was saved; their row is written at the end."""
        self._claimed: int | None = None
        self._held: dict[str, Any] | None = None

    async def claim_and_load(
        self, channel: str, event_id: str, key: str, now: datetime
    ) -> PersonRecord | None:
        started = await event_start.claim_and_load(self._sql, channel, event_id, key, now)
        if started is None:
            return None
        self._claimed, self._person = started
        return _record(self._person)

    async def hold_replies(self, address: str, replies: Sequence[Reply]) -> None:
        if self._claimed is None:
            raise RuntimeError("hold_replies needs an event claimed in this unit of work")
        pending = [reply_to_json(reply) for reply in replies]
        self._held = {"claimed": self._claimed, "address": address, "pending": pending}

    async def load_person(self, key: str, channel: str, now: datetime) -> PersonRecord:
        self._person = await person_rows.load_or_create(self._sql, key, channel, now)
        return _record(self._person)

    async def save_person(self, person: PersonRecord, now: datetime) -> None:
        row = self._loaded(person.key)
        row.language = person.language
        row.language_explicit = person.language_explicit
        row.ticket_id = person.ticket
        state = person.state
        row.data = {
            "pending_text": state.pending_text,
            "last_options": state.last_options,
            "rated": state.rated,
            "unanswered": state.unanswered,
            "last_question": state.last_question,
            "awaiting_summary": state.awaiting_summary,
        }
        row.step = state.step
        self._changed = now

    async def record_contact(
        self, key: str, channel: str, note: ContactNote, now: datetime
    ) -> None:
        await record_contact(
            self._sql,
            self._loaded(key),
            note,
            now=now,
            gap=self._contact_gap,
            zone=self._zone,
            extend_later=True,  # with the person's row, in flush
        )

    async def flush(self) -> None:
        """Write what the event changed of the person, and the replies held for delivery."""
        if self._person is not None and self._changed is not None:
            await person_rows.write(self._sql, self._person, self._changed)
        if self._held is not None:
            self._sql.later(event_claims.HOLD, self._held)
        await self._sql.run_later()

    def _loaded(self, key: str) -> PersonRow:
        if self._person is None or self._person.key != key:
            raise RuntimeError("the person must be loaded earlier in this unit of work")
        return self._person

    async def erase_person(self, key: str, now: datetime, address: Address | None) -> None:
        if address is not None:
            # Earlier replies a crash or an outage left undelivered: the chat's id, and texts
            # that may repeat the person's words. They are not sent after the erasure.
            channel, chat = address
            await self._sql.execute(_FORGET_UNDELIVERED, {"event_channel": channel, "chat": chat})
        person_id = await self._sql.scalar(_PERSON_ID, {"key": key})
        if person_id is not None:
            await self._sql.execute(_DROP_STATE, {"person": person_id})
            await self._sql.execute(_DROP_PERSON, {"person": person_id})
        self._person = self._changed = None  # nothing is written back about them
        await unlink_contacts(self._sql, key, self._zone)
        await person_tickets.erase_tickets(self._sql, key, random_key(), now)

    async def open_ticket(self, ticket: NewTicket, now: datetime) -> int:
        return await person_tickets.open_ticket(self._sql, ticket, now)

    async def add_ticket_line(self, number: int, line: TicketLine) -> None:
        await person_tickets.add_line(self._sql, number, line)

    async def raise_ticket_priority(self, number: int, now: datetime) -> None:
        await person_tickets.raise_priority(self._sql, number, now)

    async def close_own_ticket(self, number: int, now: datetime) -> None:
        await person_tickets.close_by_person(self._sql, number, now)

    async def rate_ticket(self, number: int, key: str) -> RatingOutcome:
        return await person_tickets.rate_ticket(self._sql, number, key)

    async def record_assessment(self, note: AssessmentNote, now: datetime) -> None:
        await self._sql.execute(
            _ASSESS,
            {
                "created_at": now,
                "positive": note.positive,
                "subject": note.subject,
                "topic_id": note.topic_id,
            },
        )


class SqlConversationStore:
    """Opens one transaction per inbound event: on PostgreSQL psycopg's own (see
    driver_transactions.py), elsewhere SQLAlchemy's."""

    def __init__(
        self,
        engine: AsyncEngine,
        contact_gap: timedelta = DEFAULT_CONTACT_GAP,
        zone: ZoneInfo = WARSAW,
    ) -> None:
        self._engine = engine
        self._contact_gap = contact_gap
        self._zone = zone
        dialect = engine.dialect
        self._driver = (
            DriverTransactions(engine, MESSAGE_CONNECTIONS)
            if dialect.name == "postgresql" and dialect.driver == "psycopg"
            else None
        )

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[SqlConversation]:
        async with self._transaction() as sql:
            conversation = SqlConversation(sql, self._contact_gap, self._zone)
            yield conversation
            await conversation.flush()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[TransactionSql]:
        if self._driver is not None:
            async with self._driver.begin() as sql:
                yield sql
            return
        async with self._engine.begin() as connection:
            yield TransactionSql(connection)

    def is_outage(self, error: BaseException) -> bool:
        return is_database_outage(error)


def _record(row: PersonRow) -> PersonRecord:
    """The dialogue's view of the person's row."""
    data = row.data
    state = ConversationState(
        step=row.step,
        pending_text=_str_or_none(data.get("pending_text")),
        last_options=_option_pairs(data.get("last_options")),
        rated=_strings(data.get("rated")),
        unanswered=_int(data.get("unanswered")),
        last_question=_str_or_none(data.get("last_question")),
        awaiting_summary=_str_or_none(data.get("awaiting_summary")),
    )
    return PersonRecord(
        key=row.key,
        language=row.language,
        state=state,
        language_explicit=row.language_explicit,
        ticket=row.ticket_id,
    )


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

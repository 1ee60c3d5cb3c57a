"""The SQLAlchemy implementation of the dialogue's ConversationStore port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.core.ports import ConversationState, PersonRecord
from bot.storage.models import ConversationStateRow, Person, ProcessedEvent


class SqlConversation:
    """One transaction's view of people, their state and processed events."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._rows: dict[str, tuple[Person, ConversationStateRow]] = {}

    async def claim_event(self, channel: str, event_id: str, now: datetime) -> bool:
        try:
            # A savepoint, so a duplicate leaves the surrounding transaction usable.
            async with self._session.begin_nested():
                self._session.add(
                    ProcessedEvent(channel=channel, event_id=event_id, processed_at=now)
                )
        except IntegrityError:
            return False
        return True

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
        )
        return PersonRecord(
            key=key,
            language=person.language,
            state=state,
            language_explicit=person.language_explicit,
        )

    async def save_person(self, person: PersonRecord, now: datetime) -> None:
        row, state_row = self._rows[person.key]
        row.language = person.language
        row.language_explicit = person.language_explicit
        row.last_seen_at = now
        state_row.step = person.state.step
        state_row.data = {
            "pending_text": person.state.pending_text,
            "last_options": person.state.last_options,
        }
        state_row.updated_at = now


class SqlConversationStore:
    """Opens one session and transaction per inbound event."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[SqlConversation]:
        async with self._sessions() as session, session.begin():
            yield SqlConversation(session)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _option_pairs(value: object) -> list[list[str]]:
    if not isinstance(value, list):
        return []
    return [
        [str(pair[0]), str(pair[1])] for pair in value if isinstance(pair, list) and len(pair) == 2
    ]

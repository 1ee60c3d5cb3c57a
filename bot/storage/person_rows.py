"""A person's row and conversation state, read with one statement.

Every message reads and writes these, so they bypass the ORM's unit of work: a profile of
the soak benchmark found the ORM's flush and identity map taking more time than the
database itself. ``PersonRow`` carries the columns ``contacts.record_contact`` keeps up.
Their UPDATEs wait for the end of the transaction (``TransactionSql.later``), where on
PostgreSQL they join the message's other writes in one statement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Table, bindparam, insert, select, update

from bot.storage.direct_sql import TransactionSql
from bot.storage.models import ConversationStateRow, Person

_PEOPLE: Final = cast(Table, Person.__table__)
_STATES: Final = cast(Table, ConversationStateRow.__table__)
_CONTACT_COLUMNS: Final = (
    "contact_id",
    "contact_month",
    "contact_ended_at",
    "contact_answered",
    "contact_handed_off",
    "contact_helped",
    "contact_topics",
    "reached_month",
    "helped_month",
    "helped_year",
)
_WRITTEN: Final = ("language", "language_explicit", "ticket_id", *_CONTACT_COLUMNS)

LOAD: Final = (
    select(
        _PEOPLE.c.id,
        _PEOPLE.c.channel,
        *(_PEOPLE.c[name] for name in _WRITTEN),
        _STATES.c.step,
        _STATES.c.data,
    )
    .select_from(_PEOPLE.outerjoin(_STATES, _STATES.c.person_id == _PEOPLE.c.id))
    .where(_PEOPLE.c.key == bindparam("key"))
    # The row is written back whole at the end, so a staff action on it (closing the
    # person's ticket) waits for this transaction instead of being overwritten by it.
    .with_for_update(of=_PEOPLE)
)
_CREATE: Final = insert(_PEOPLE).returning(_PEOPLE.c.id)
_WRITE: Final = (
    update(_PEOPLE)
    .where(_PEOPLE.c.id == bindparam("person"))
    .values({name: bindparam(name) for name in (*_WRITTEN, "last_seen_at")})
)
_CREATE_STATE: Final = insert(_STATES)
_WRITE_STATE: Final = (
    update(_STATES)
    .where(_STATES.c.person_id == bindparam("person"))
    .values(step=bindparam("step"), data=bindparam("data"), updated_at=bindparam("updated_at"))
)


@dataclass(slots=True)
class PersonRow:
    """The people row (and its conversation state) as one event reads and changes it."""

    id: int
    key: str
    channel: str
    language: str | None = None
    language_explicit: bool = False
    ticket_id: int | None = None
    contact_id: int | None = None
    contact_month: str | None = None
    contact_ended_at: datetime | None = None
    contact_answered: bool = False
    contact_handed_off: bool = False
    contact_helped: bool = False
    contact_topics: list[str] | None = None
    reached_month: str | None = None
    helped_month: str | None = None
    helped_year: int | None = None
    step: str = "new"
    data: dict[str, Any] = field(default_factory=dict)
    has_state: bool = False
    """Whether the conversation state row exists (it is made on the first write)."""


async def load_or_create(sql: TransactionSql, key: str, channel: str, now: datetime) -> PersonRow:
    """The person with this pseudonym; a new row on their first message."""
    found = await sql.first(LOAD, {"key": key})
    if found is not None:
        return from_row(key, found)
    return await create(sql, key, channel, now)


async def create(sql: TransactionSql, key: str, channel: str, now: datetime) -> PersonRow:
    """A new row for someone writing for the first time."""
    person_id = await sql.scalar(
        _CREATE,
        {
            "key": key,
            "channel": channel,
            "language": None,
            "language_explicit": False,
            "created_at": now,
            "last_seen_at": now,
        },
    )
    if person_id is None:
        raise RuntimeError("INSERT … RETURNING gave no id")
    return PersonRow(id=int(person_id), key=key, channel=channel)


async def write(sql: TransactionSql, person: PersonRow, now: datetime) -> None:
    """Store the row's columns and its conversation state: a first state at once, the
    UPDATEs with ``sql.run_later()``."""
    row = {name: getattr(person, name) for name in _WRITTEN}
    sql.later(_WRITE, row | {"person": person.id, "last_seen_at": now})
    state = {"step": person.step, "data": person.data, "updated_at": now}
    if not person.has_state:
        await sql.execute(_CREATE_STATE, state | {"person_id": person.id})
        person.has_state = True
    else:
        sql.later(_WRITE_STATE, state | {"person": person.id})


def from_row(key: str, values: Mapping[str, Any]) -> PersonRow:
    """The person as ``LOAD`` (or a statement with its columns) read them."""
    return PersonRow(
        id=values["id"],
        key=key,
        channel=values["channel"],
        **{name: values[name] for name in _WRITTEN},
        step=values["step"] or "new",
        data=dict(values["data"] or {}),
        has_state=values["step"] is not None,
    )

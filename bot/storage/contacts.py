"""Recording contacts in as few statements as possible: this runs on every message.

A message inside an open contact is one UPDATE (which finds the contact itself); a message
after a gap is one INSERT more; answered topics add one INSERT that ignores repeats. The
statements are built once, with bound parameters, and run on the session's connection
without the ORM's unit of work: each costs little more than its round trip.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import bindparam, case, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.ports import ContactNote
from bot.storage.models import Contact, ContactTopic

_TIME = Contact.__table__.c.ended_at.type

_EXTEND: Final = (
    update(Contact)
    .where(
        Contact.id
        == select(Contact.id)
        .where(
            Contact.person_key == bindparam("key"),
            Contact.ended_at >= bindparam("cutoff", type_=_TIME),
        )
        .order_by(Contact.ended_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    .values(
        # Out-of-order delivery must not move the end back.
        ended_at=case(
            (Contact.ended_at < bindparam("now", type_=_TIME), bindparam("now", type_=_TIME)),
            else_=Contact.ended_at,
        ),
        language=func.coalesce(bindparam("language"), Contact.language),
        answered=or_(Contact.answered, bindparam("helped")),
        helped=or_(Contact.helped, bindparam("helped")),
    )
    .returning(Contact.id)
)
_START: Final = insert(Contact).returning(Contact.id)


async def record_contact(
    session: AsyncSession,
    key: str,
    channel: str,
    note: ContactNote,
    *,
    now: datetime,
    gap: timedelta,
) -> int:
    """Extend the person's open contact or start one; returns the contact's id."""
    helped = bool(note.answered_topics)
    connection = await session.connection()
    contact_id = await connection.scalar(
        _EXTEND,
        {"key": key, "cutoff": now - gap, "now": now, "language": note.language, "helped": helped},
    )
    if contact_id is None:
        contact_id = await connection.scalar(
            _START,
            {
                "person_key": key,
                "channel": channel,
                "language": note.language,
                "started_at": now,
                "ended_at": now,
                "answered": helped,
                "handed_off": False,
                "helped": helped,
            },
        )
    if note.answered_topics:
        rows = [
            {"contact_id": contact_id, "topic_id": topic}
            for topic in dict.fromkeys(note.answered_topics)
        ]
        await connection.execute(_insert_ignoring_repeats(session), rows)
    if contact_id is None:
        raise RuntimeError("INSERT … RETURNING gave no id")
    return int(contact_id)


def _insert_ignoring_repeats(session: AsyncSession) -> Any:
    """INSERT … ON CONFLICT DO NOTHING for contact topics, in the session's dialect."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(ContactTopic).on_conflict_do_nothing()

"""Recording contacts, and the monthly roll-ups the reports read, as messages arrive.

This runs on every message, so it writes as little as it can. The person's row (loaded for
the dialogue anyway) remembers their open contact, so no lookup is needed: a later message
in a contact is one UPDATE; a contact's start is an INSERT and an upsert that adds to its
month's totals; the first help or hand-off in a contact adds to them again, and each topic
answered for the first time in the contact adds one to its month. Everything goes into the
message's own transaction, so a total can never disagree with the contacts it sums. Each
total is spread over a few rows by person (``ROLL_UP_SHARDS``), so that concurrent messages
rarely wait for each other's commit on the same row.

A contact counts in the month (Europe/Warsaw) it started in, and never runs into a new
year: retention unlinks past years from people, and a contact spanning the new year would
otherwise be counted again under its person's real key.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, and_, bindparam, case, func, insert, or_, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.core.ports import ContactNote
from bot.storage.direct_sql import TransactionSql
from bot.storage.models import (
    MONTH_COUNTS,
    ROLL_UP_SHARDS,
    Contact,
    MonthTotal,
    Person,
    TopicMonth,
)
from bot.storage.person_rows import PersonRow

_TIME = Contact.__table__.c.ended_at.type

_START: Final = insert(Contact).returning(Contact.id)
_EXTEND: Final = (
    update(Contact)
    .where(Contact.id == bindparam("contact"))
    .values(
        # Out-of-order delivery must not move the end back.
        ended_at=case(
            (Contact.ended_at < bindparam("now", type_=_TIME), bindparam("now", type_=_TIME)),
            else_=Contact.ended_at,
        ),
        # A contact counts under the language its person was first helped in.
        language=case(
            (and_(~Contact.helped, bindparam("now_helped")), bindparam("note_language")),
            else_=func.coalesce(Contact.language, bindparam("note_language")),
        ),
        answered=or_(Contact.answered, bindparam("now_answered")),
        handed_off=or_(Contact.handed_off, bindparam("now_handed_off")),
        helped=or_(Contact.helped, bindparam("now_helped")),
        topics=bindparam("all_topics", type_=JSON()),
    )
)


@dataclass(frozen=True, slots=True)
class _Upserts:
    """The roll-ups' INSERT … ON CONFLICT DO UPDATE statements in one SQL dialect: each adds
    the row's counts to the stored ones."""

    month_total: Any
    topic_month: Any

    @classmethod
    def for_dialect(cls, name: str) -> _Upserts:
        module: Any = postgresql if name == "postgresql" else sqlite
        totals = module.insert(MonthTotal)
        topic = module.insert(TopicMonth)
        return cls(
            totals.on_conflict_do_update(
                index_elements=[
                    MonthTotal.month,
                    MonthTotal.channel,
                    MonthTotal.language,
                    MonthTotal.shard,
                ],
                set_={
                    name: getattr(MonthTotal, name) + getattr(totals.excluded, name)
                    for name in MONTH_COUNTS
                },
            ),
            topic.on_conflict_do_update(
                index_elements=[TopicMonth.month, TopicMonth.topic_id, TopicMonth.shard],
                set_={"contacts": TopicMonth.contacts + topic.excluded.contacts},
            ),
        )


_UPSERTS: Final = {name: _Upserts.for_dialect(name) for name in ("sqlite", "postgresql")}


def shard_of(person_key: str) -> int:
    """The roll-up rows a person's contacts add to: the same for all of a person's messages,
    spread evenly over people (the key is a keyed hash, or random after erasure)."""
    return zlib.crc32(person_key.encode()) % ROLL_UP_SHARDS


def month_of(moment: datetime, zone: ZoneInfo) -> str:
    """YYYY-MM of ``moment`` in ``zone``."""
    return aware(moment).astimezone(zone).strftime("%Y-%m")


def aware(moment: datetime) -> datetime:
    # SQLite returns the stored UTC time without its zone; PostgreSQL returns it aware.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def record_contact(
    sql: TransactionSql,
    person: Person | PersonRow,
    note: ContactNote,
    *,
    now: datetime,
    gap: timedelta,
    zone: ZoneInfo,
    extend_later: bool = False,
) -> int:
    """Extend the person's open contact or start one, keeping the roll-ups in step; returns
    the contact's id. The person's row is changed in place and saved with the transaction.

    With ``extend_later`` the open contact's UPDATE waits for ``sql.run_later()``, which the
    caller must run before the transaction ends."""
    upserts = _UPSERTS[sql.dialect.name]
    month = month_of(now, zone)
    open_contact = _open_contact(person, now, gap, month)
    if open_contact is not None:
        contact_id, started_in = open_contact
        await _extend(sql, contact_id, person, note, now, later=extend_later)
        await _count(sql, upserts, person, note, started_in, started=False)
        return contact_id
    new_id = await sql.scalar(
        _START,
        {
            "person_key": person.key,
            "channel": person.channel,
            "language": note.language,
            "started_at": now,
            "ended_at": now,
            "answered": bool(note.answered_topics),
            "handed_off": note.handed_off,
            "helped": note.helped,
            "topics": list(dict.fromkeys(note.answered_topics)),
        },
    )
    if new_id is None:
        raise RuntimeError("INSERT … RETURNING gave no id")
    person.contact_id = int(new_id)
    person.contact_month = month
    person.contact_ended_at = now
    person.contact_answered = person.contact_handed_off = person.contact_helped = False
    person.contact_topics = []
    await _count(sql, upserts, person, note, month, started=True)
    return person.contact_id


def _open_contact(
    person: Person | PersonRow, now: datetime, gap: timedelta, month: str
) -> tuple[int, str] | None:
    """The id and month of the person's contact this message continues, if any."""
    contact_id, started_in, ended_at = (
        person.contact_id,
        person.contact_month,
        person.contact_ended_at,
    )
    if contact_id is None or started_in is None or ended_at is None:
        return None
    if started_in[:4] != month[:4] or now - aware(ended_at) >= gap:
        return None
    return contact_id, started_in


async def _extend(
    sql: TransactionSql,
    contact_id: int,
    person: Person | PersonRow,
    note: ContactNote,
    now: datetime,
    *,
    later: bool,
) -> None:
    topics = list(dict.fromkeys([*(person.contact_topics or []), *note.answered_topics]))
    params = {
        "contact": contact_id,
        "now": now,
        "note_language": note.language,
        "now_answered": bool(note.answered_topics),
        "now_handed_off": note.handed_off,
        "now_helped": note.helped,
        "all_topics": topics,
    }
    if person.contact_ended_at is None or aware(person.contact_ended_at) < now:
        person.contact_ended_at = now
    if later:
        sql.later(_EXTEND, params)
    else:
        await sql.execute(_EXTEND, params)


async def _count(
    sql: TransactionSql,
    upserts: _Upserts,
    person: Person | PersonRow,
    note: ContactNote,
    month: str,
    *,
    started: bool,
) -> None:
    """Add what this message changed to the month's totals (nothing, most of the time).

    ``answered`` counts contacts the bot answered that were not handed off, so a hand-off
    after an answer moves the contact from one count to the other.
    """
    year = int(month[:4])
    answered = person.contact_answered or bool(note.answered_topics)
    handed_off = person.contact_handed_off or note.handed_off
    newly_helped = note.helped and not person.contact_helped
    changes = {
        "contacts": int(started),
        "answered": int(answered and not handed_off)
        - int(person.contact_answered and not person.contact_handed_off),
        "handed_off": int(handed_off and not person.contact_handed_off),
        "reached": int(started and person.reached_month != month),
        "beneficiaries": int(newly_helped and person.helped_month != month),
        "new_beneficiaries": int(newly_helped and person.helped_year != year),
    }
    if any(changes.values()):
        await sql.execute(
            upserts.month_total,
            {
                "month": month,
                "channel": person.channel,
                "language": note.language or "",
                "shard": shard_of(person.key),
                **changes,
            },
        )
    if started:
        person.reached_month = month
    if newly_helped:
        person.helped_month, person.helped_year = month, year
    person.contact_answered = answered
    person.contact_handed_off = handed_off
    person.contact_helped = person.contact_helped or newly_helped
    known = set(person.contact_topics or [])
    new_topics = [topic for topic in dict.fromkeys(note.answered_topics) if topic not in known]
    if new_topics:
        await sql.execute_many(
            upserts.topic_month,
            [
                {"month": month, "topic_id": topic, "shard": shard_of(person.key), "contacts": 1}
                for topic in new_topics
            ],
        )
        # A new list, so the ORM sees the change to the JSON column.
        person.contact_topics = [*(person.contact_topics or []), *new_topics]

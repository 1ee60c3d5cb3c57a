"""Unlinking people from their statistics while every total stays exactly the same.

A person's contacts are re-keyed to random keys: one new key per
calendar year (Europe/Warsaw time), so within a year they still count as one person, and
across years they can no longer be linked to each other or to anyone. Random keys carry a
prefix, so a job never re-keys them again.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Final, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, func, select, update

from bot.storage.contacts import aware
from bot.storage.direct_sql import TransactionSql
from bot.storage.models import Contact

ERASED_PREFIX: Final = "erased:"

_CONTACTS: Final = cast(Table, Contact.__table__)
_PERSONS: Final = _CONTACTS.c.person_key == bindparam("key")
_BEFORE: Final = _CONTACTS.c.started_at < bindparam("before")
_SPAN: Final = select(
    func.count(_CONTACTS.c.id).label("contacts"),
    func.min(_CONTACTS.c.started_at).label("first"),
    func.max(_CONTACTS.c.started_at).label("last"),
).where(_PERSONS, _BEFORE)
_REKEY_YEAR: Final = (
    update(_CONTACTS)
    .where(_PERSONS, _CONTACTS.c.started_at >= bindparam("since"), _BEFORE)
    .values(person_key=bindparam("new_key"))
)
_NO_END: Final = datetime(9999, 1, 1, tzinfo=UTC)


def random_key() -> str:
    return ERASED_PREFIX + secrets.token_hex(24)


def is_unlinked(key: str) -> bool:
    return key.startswith(ERASED_PREFIX)


async def unlink_contacts(
    sql: TransactionSql, person_key: str, zone: ZoneInfo, before_year: int | None = None
) -> int:
    """Re-key the person's contacts (of years before ``before_year``, if given); returns how
    many changed. The month totals hold no key, so they need nothing."""
    end = _NO_END if before_year is None else _new_year(before_year, zone)
    span = await sql.first(_SPAN, {"key": person_key, "before": end})
    if span is None or not span["contacts"]:
        return 0
    first, last = (aware(span[name]).astimezone(zone).year for name in ("first", "last"))
    for year in range(first, last + 1):
        # One UPDATE a year: the year's contacts, and only they, share the new key.
        await sql.execute(
            _REKEY_YEAR,
            {
                "key": person_key,
                "since": _new_year(year, zone),
                "before": min(end, _new_year(year + 1, zone)),
                "new_key": random_key(),
            },
        )
    return int(span["contacts"])


def _new_year(year: int, zone: ZoneInfo) -> datetime:
    """The year's first moment in ``zone``, in UTC: SQLite compares the stored UTC times
    as text, with no zone."""
    return datetime(year, 1, 1, tzinfo=zone).astimezone(UTC)

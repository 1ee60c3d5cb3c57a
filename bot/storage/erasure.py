"""Unlinking people from their statistics while every total stays exactly the same.

A person's contacts and monthly roll-ups are re-keyed to random keys: one new key per
calendar year (Europe/Warsaw time), so within a year they still count as one person, and
across years they can no longer be linked to each other or to anyone. Random keys carry a
prefix, so a job never re-keys them again.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Contact, PersonMonth

ERASED_PREFIX: Final = "erased:"


def random_key() -> str:
    return ERASED_PREFIX + secrets.token_hex(24)


def is_unlinked(key: str) -> bool:
    return key.startswith(ERASED_PREFIX)


async def unlink_contacts(
    session: AsyncSession, person_key: str, zone: ZoneInfo, before_year: int | None = None
) -> int:
    """Re-key the person's contacts and roll-ups (of years before ``before_year``, if given);
    returns how many contacts changed."""
    # Every contact has its month's roll-up row, so these are the years with contacts.
    year = func.substr(PersonMonth.month, 1, 4)
    query = select(year).where(PersonMonth.person_key == person_key).distinct()
    if before_year is not None:
        query = query.where(PersonMonth.month < f"{before_year:04d}-01")
    changed = 0
    for text in list(await session.scalars(query)):
        number = int(text)
        key = random_key()
        start = datetime(number, 1, 1, tzinfo=zone)
        end = datetime(number + 1, 1, 1, tzinfo=zone)
        contacts = await session.execute(
            update(Contact)
            .where(
                Contact.person_key == person_key,
                Contact.started_at >= start,
                Contact.started_at < end,
            )
            .values(person_key=key)
        )
        await session.execute(
            update(PersonMonth)
            .where(PersonMonth.person_key == person_key, PersonMonth.month.startswith(text))
            .values(person_key=key)
        )
        changed += contacts.rowcount or 0  # type: ignore[attr-defined]
    return changed

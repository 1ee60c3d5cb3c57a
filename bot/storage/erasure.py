"""Unlinking people from their statistics while every total stays exactly the same.

A person's contacts are re-keyed to random keys: one new key per
calendar year (Europe/Warsaw time), so within a year they still count as one person, and
across years they can no longer be linked to each other or to anyone. Random keys carry a
prefix, so a job never re-keys them again.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.contacts import aware
from bot.storage.models import Contact

ERASED_PREFIX: Final = "erased:"


def random_key() -> str:
    return ERASED_PREFIX + secrets.token_hex(24)


def is_unlinked(key: str) -> bool:
    return key.startswith(ERASED_PREFIX)


async def unlink_contacts(
    session: AsyncSession, person_key: str, zone: ZoneInfo, before_year: int | None = None
) -> int:
    """Re-key the person's contacts (of years before ``before_year``, if given); returns how
    many changed. The month totals hold no key, so they need nothing."""
    query = select(Contact.id, Contact.started_at).where(Contact.person_key == person_key)
    if before_year is not None:
        query = query.where(Contact.started_at < datetime(before_year, 1, 1, tzinfo=zone))
    by_year: dict[int, list[int]] = defaultdict(list)
    for contact_id, started_at in await session.execute(query):
        by_year[aware(started_at).astimezone(zone).year].append(contact_id)
    for ids in by_year.values():
        await session.execute(
            update(Contact).where(Contact.id.in_(ids)).values(person_key=random_key())
        )
    return sum(len(ids) for ids in by_year.values())

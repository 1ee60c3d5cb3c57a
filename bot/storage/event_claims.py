"""Claiming an inbound event by its id, so that one delivered again is handled only once.

Telegram delivers an update again when it was not confirmed before a crash, and Matrix
a sync's events when the sync token was not saved; the claim is made in the transaction that
does the event's work, so the work and the claim are kept or lost together.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.direct_sql import TransactionSql
from bot.storage.models import ProcessedEvent

_EVENTS: Final = cast(Table, ProcessedEvent.__table__)
CLAIMS: Final = {
    name: module.insert(_EVENTS)
    # Named values, not ones taken from the parameters: on PostgreSQL the claim also goes
    # as a CTE (bot/storage/event_start.py), where parameters name no columns.
    .values(
        channel=bindparam("channel"),
        event_id=bindparam("event_id"),
        processed_at=bindparam("processed_at"),
    )
    .on_conflict_do_nothing(index_elements=[_EVENTS.c.channel, _EVENTS.c.event_id])
    .returning(_EVENTS.c.id)
    for name, module in (("postgresql", postgresql), ("sqlite", sqlite))
}
"""The claim of an event id, per dialect: its row id, or no row when it was claimed before."""

HOLD: Final = (
    update(_EVENTS)
    .where(_EVENTS.c.id == bindparam("claimed"))
    .values(address=bindparam("address"), pending=bindparam("pending"))
)
"""Stores an event's replies with its claim until they are delivered."""


async def claim(sql: TransactionSql, channel: str, event_id: str, now: datetime) -> int | None:
    """The claim's row id; None when the event was claimed before."""
    claimed = await sql.scalar(
        CLAIMS[sql.dialect.name],
        {"channel": channel, "event_id": event_id, "processed_at": now},
    )
    return None if claimed is None else int(claimed)


async def staff_line(connection: AsyncConnection, channel: str, event_id: str) -> int | None:
    """The staff answer that the claimed event stored, if it stored one."""
    return await connection.scalar(
        select(_EVENTS.c.staff_line).where(
            _EVENTS.c.channel == channel, _EVENTS.c.event_id == event_id
        )
    )


async def note_staff_line(connection: AsyncConnection, claim_id: int, line_id: int) -> None:
    """Remember on the claim which staff answer its event stored."""
    await connection.execute(
        update(_EVENTS).where(_EVENTS.c.id == claim_id).values(staff_line=line_id)
    )

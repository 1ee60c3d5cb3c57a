"""Claiming an inbound event by its id, so that one delivered again is handled only once.

Telegram delivers an update again when its batch was not confirmed before a crash, and Matrix
a sync's events when the sync token was not saved; the claim is made in the transaction that
does the event's work, so the work and the claim are kept or lost together.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.models import ProcessedEvent

_EVENTS: Final = cast(Table, ProcessedEvent.__table__)
_CLAIMS: Final = {
    name: module.insert(_EVENTS)
    .on_conflict_do_nothing(index_elements=[_EVENTS.c.channel, _EVENTS.c.event_id])
    .returning(_EVENTS.c.id)
    for name, module in (("postgresql", postgresql), ("sqlite", sqlite))
}


async def claim(
    connection: AsyncConnection, channel: str, event_id: str, now: datetime
) -> int | None:
    """The claim's row id; None when the event was claimed before."""
    claimed = await connection.scalar(
        _CLAIMS[connection.dialect.name],
        {"channel": channel, "event_id": event_id, "processed_at": now},
    )
    return None if claimed is None else int(claimed)

"""An event's first step: its claim and the person's row, in one round trip on PostgreSQL.

Every message claims its event id and then reads its person; each statement's round trip
costs the bot's one core more than the database's work on it. On PostgreSQL the claim goes
as a data-modifying CTE of the person's SELECT, so one statement does both. SQLite has no
such CTEs; there they stay two statements.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import Select, literal_column, select, true

from bot.storage import event_claims, person_rows
from bot.storage.direct_sql import TransactionSql
from bot.storage.person_rows import PersonRow


def _claim_and_load() -> Select[Any]:
    claim = event_claims.CLAIMS["postgresql"].cte("claim")
    person = person_rows.LOAD.cte("person")
    # One row whether or not the person exists: their columns are NULL for someone new. The
    # claim is a scalar subquery, NULL when the event was claimed before. (The person's
    # FOR UPDATE stays inside its CTE: PostgreSQL refuses it on an outer join's NULL side.)
    one = select(literal_column("1").label("one")).subquery("one")
    return select(select(claim.c.id).scalar_subquery().label("claimed"), *person.c).select_from(
        one.outerjoin(person, true())
    )


_CLAIM_AND_LOAD: Final = _claim_and_load()


async def claim_and_load(
    sql: TransactionSql, channel: str, event_id: str, key: str, now: datetime
) -> tuple[int, PersonRow] | None:
    """The event's claim id and its person (a new row on their first message); None when
    the event was claimed before."""
    if sql.dialect.name != "postgresql":
        claimed = await event_claims.claim(sql, channel, event_id, now)
        if claimed is None:
            return None
        return claimed, await person_rows.load_or_create(sql, key, channel, now)
    found = await sql.first(
        _CLAIM_AND_LOAD,
        {"channel": channel, "event_id": event_id, "processed_at": now, "key": key},
    )
    if found is None or found["claimed"] is None:
        return None
    if found["id"] is None:
        return int(found["claimed"]), await person_rows.create(sql, key, channel, now)
    return int(found["claimed"]), person_rows.from_row(key, found)

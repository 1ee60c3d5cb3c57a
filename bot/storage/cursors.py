"""Adapters' cursors into their networks' event streams (the Matrix sync token)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.models import AdapterCursor


class SqlCursors:
    """Reads and writes one row per cursor name; each call is its own transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, name: str) -> str | None:
        async with self._engine.connect() as connection:
            return await connection.scalar(
                select(AdapterCursor.value).where(AdapterCursor.name == name)
            )

    async def put(self, name: str, value: str, now: datetime) -> None:
        async with self._engine.begin() as connection:
            changed = await connection.execute(
                update(AdapterCursor)
                .where(AdapterCursor.name == name)
                .values(value=value, updated_at=now)
            )
            if changed.rowcount == 0:
                await connection.execute(
                    insert(AdapterCursor).values(name=name, value=value, updated_at=now)
                )

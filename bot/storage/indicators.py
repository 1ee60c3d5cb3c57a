"""Writes for the programme's indicators that are not part of a conversation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.models import KnowledgeVersion


async def record_knowledge_version(
    engine: AsyncEngine, fingerprint: str, topics: int, now: datetime
) -> bool:
    """Note a knowledge-base content the first time the bot serves it; False if known."""
    async with engine.begin() as connection:
        known = await connection.scalar(
            select(KnowledgeVersion.id).where(KnowledgeVersion.fingerprint == fingerprint)
        )
        if known is not None:
            return False
        await connection.execute(
            insert(KnowledgeVersion).values(fingerprint=fingerprint, loaded_at=now, topics=topics)
        )
    return True

"""The background jobs of a running bot, on APScheduler 3 in the bot's own event loop.

Each job is a plain coroutine elsewhere (tests call it directly); this module only says when
it runs.
"""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.knowledge.service import LiveKnowledge
from bot.settings import Settings


def build_scheduler(settings: Settings, knowledge: LiveKnowledge) -> AsyncIOScheduler:
    """A scheduler with every job the settings ask for; started by the caller."""
    scheduler = AsyncIOScheduler(timezone=settings.timezone)
    if settings.knowledge_reload_seconds:
        scheduler.add_job(
            knowledge.reload,
            "interval",
            seconds=settings.knowledge_reload_seconds,
            id="knowledge-reload",
            coalesce=True,
            max_instances=1,
        )
    return scheduler

"""The background jobs of a running bot, on APScheduler 3 in the bot's own event loop.

Each job is a plain coroutine elsewhere (tests call it directly with a fixed clock); this
module only says when it runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.knowledge.service import LiveKnowledge
from bot.settings import Settings
from bot.storage.retention import RetentionOutcome, purge


def build_scheduler(
    settings: Settings,
    knowledge: LiveKnowledge,
    database: AsyncEngine | None = None,
    monthly_report: Callable[[], Awaitable[object]] | None = None,
    ticket_reminders: Callable[[], Awaitable[object]] | None = None,
) -> AsyncIOScheduler:
    """A scheduler with every job the settings ask for; started by the caller."""
    zone = ZoneInfo(settings.timezone)
    scheduler = AsyncIOScheduler(timezone=zone)
    if settings.knowledge_reload_seconds:
        scheduler.add_job(
            knowledge.reload,
            "interval",
            seconds=settings.knowledge_reload_seconds,
            id="knowledge-reload",
            coalesce=True,
            max_instances=1,
        )
    if database is not None:
        retention = timedelta(days=settings.retention_days)

        async def retention_job() -> RetentionOutcome:
            return await purge(database, datetime.now(UTC), retention, zone)

        scheduler.add_job(retention_job, "cron", hour=3, minute=30, id="retention", coalesce=True)
    if monthly_report is not None:
        # Catching up after downtime is the job's own business (it runs at start too).
        scheduler.add_job(
            monthly_report, "cron", day=1, hour=8, minute=0, id="monthly-report", coalesce=True
        )
    if ticket_reminders is not None:
        scheduler.add_job(
            ticket_reminders,
            "interval",
            minutes=1,
            id="ticket-reminders",
            coalesce=True,
            max_instances=1,
        )
    return scheduler

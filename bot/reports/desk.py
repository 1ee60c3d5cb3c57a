"""Reports for coordinators: on request (/report) and every month on schedule."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.ports import ReportFile
from bot.reports.figures import Report
from bot.reports.formats import summary_lines
from bot.reports.labels import label
from bot.reports.periods import Month
from bot.reports.queries import build_report
from bot.reports.xlsx import as_xlsx
from bot.storage.models import ReportDelivery

log = logging.getLogger(__name__)

DUE_AFTER = timedelta(hours=8)
"""The monthly report is due at 08:00 on the 1st."""

Sender = Callable[[ReportFile], Awaitable[None]]


class SqlReportDesk:
    """Implements the engine's ReportDesk over the database."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        zone: ZoneInfo,
        entries_per_language: Callable[[], Mapping[str, int]],
        coordinators: Mapping[str, Collection[str]],
    ) -> None:
        self._engine = engine
        self._zone = zone
        self._entries_per_language = entries_per_language
        """The procedures indicator, read from the knowledge the bot holds."""
        self._coordinators = coordinators
        """Platform user ids allowed to receive reports, by channel."""

    def is_coordinator(self, channel: str, user_id: str) -> bool:
        return user_id in self._coordinators.get(channel, ())

    async def monthly(self, month: str | None, language: str, now: datetime) -> ReportFile:
        chosen = (
            Month.parse(month) if month else Month.of(now.astimezone(self._zone).date()).previous()
        )
        report = await build_report(
            self._engine,
            [chosen],
            zone=self._zone,
            now=now,
            entries_per_language=self._entries_per_language(),
        )
        return ReportFile(
            summary(report, language), f"infopoint-{chosen}.xlsx", as_xlsx(report, language)
        )

    async def deliver_due(
        self, now: datetime, reports_dir: Path, send: Sender, language: str = "pl"
    ) -> Month | None:
        """Deliver last month's report if it is due and was never delivered; the month
        delivered, or None. Run at 08:00 on the 1st and at every start (catching up)."""
        local = (now.astimezone(self._zone) - DUE_AFTER).date()
        due = Month.of(local).previous()
        try:
            async with self._engine.begin() as connection:
                # Claimed first: a crash after this loses one delivery but never sends twice.
                await connection.execute(
                    insert(ReportDelivery).values(period=str(due), delivered_at=now)
                )
        except IntegrityError:
            return None
        report = await self.monthly(str(due), language, now)
        await asyncio.to_thread(_save, reports_dir / report.filename, report.content)
        try:
            await send(report)
        except Exception:
            log.exception("the monthly report %s was saved but not sent", due)
        log.info("monthly report %s delivered", due)
        return due


def _save(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def summary(report: Report, language: str) -> str:
    """The short text sent with the workbook."""
    month = report.months[-1]
    return "\n".join(
        [
            f"{label('title', language)} – {month.month}",
            f"{label('beneficiaries', language)}: {month.beneficiaries} "
            f"({label('new_beneficiaries', language)}: {month.new_beneficiaries}); "
            f"{label('contacts', language)}: {month.contacts}",
            *summary_lines(report, language),
        ]
    )

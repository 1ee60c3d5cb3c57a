"""The report's numbers, computed in SQL: GROUP BY and COUNT(DISTINCT), never rows in Python.

A contact belongs to the month in which it started (Europe/Warsaw time). Each query reads
one year's requested months at once, sorting rows into months with a CASE over the month
boundaries, so a yearly report is a handful of index range scans.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from itertools import groupby
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.reports.figures import (
    BENEFICIARY_TARGET,
    Indicators,
    MonthFigures,
    Report,
    YearToDate,
)
from bot.reports.periods import Month
from bot.storage.models import Assessment, Contact, ContactTopic, KnowledgeVersion

TOP_TOPICS: Final = 10


def _bucket(column: Any, bounds: Sequence[datetime]) -> ColumnElement[int]:
    """The index of the month a time falls in, given the months' boundaries."""
    # bounds[-1] closes the last month; a single month still needs one WHEN to be valid SQL.
    inner = bounds[1:-1] or bounds[-1:]
    return case(
        *((column < bound, index) for index, bound in enumerate(inner)),
        else_=len(bounds) - 2,
    )


class _YearSlice:
    """Consecutive months of one calendar year, and the queries over them."""

    def __init__(self, months: Sequence[Month], zone: ZoneInfo) -> None:
        self.months = list(months)
        self.bounds = [month.start(zone) for month in months] + [months[-1].next().start(zone)]
        self.year_start = Month(months[0].year, 1).start(zone)
        self.in_range = and_(
            Contact.started_at >= self.bounds[0], Contact.started_at < self.bounds[-1]
        )
        self.bucket = _bucket(Contact.started_at, self.bounds)

    async def figures(self, connection: AsyncConnection) -> list[MonthFigures]:
        counts: dict[int, dict[str, Any]] = defaultdict(dict)
        outcome_handed = Contact.handed_off
        outcome_answered = and_(Contact.answered, ~Contact.handed_off)
        totals = await connection.execute(
            select(
                self.bucket,
                func.count(),
                func.count(func.distinct(Contact.person_key)),
                func.sum(case((outcome_answered, 1), else_=0)),
                func.sum(case((outcome_handed, 1), else_=0)),
            )
            .where(self.in_range)
            .group_by(self.bucket)
        )
        for index, contacts, reached, answered, handed_off in totals:
            counts[index] |= {
                "contacts": contacts,
                "reached": reached,
                "answered": int(answered or 0),
                "handed_off": int(handed_off or 0),
            }
        helped = await connection.execute(
            select(self.bucket, func.count(func.distinct(Contact.person_key)))
            .where(self.in_range, Contact.helped)
            .group_by(self.bucket)
        )
        for index, beneficiaries in helped:
            counts[index]["beneficiaries"] = beneficiaries
        for index, new in await self._new_beneficiaries(connection):
            counts[index]["new"] = new
        by_language = await self._helped_by(connection, Contact.language)
        by_channel = await self._helped_by(connection, Contact.channel)
        topics = await self._topics(connection)
        figures = []
        for index, month in enumerate(self.months):
            row = counts.get(index, {})
            contacts = row.get("contacts", 0)
            beneficiaries = row.get("beneficiaries", 0)
            figures.append(
                MonthFigures(
                    month=month,
                    beneficiaries=beneficiaries,
                    new_beneficiaries=row.get("new", 0),
                    reached_not_helped=row.get("reached", 0) - beneficiaries,
                    contacts=contacts,
                    answered=row.get("answered", 0),
                    handed_off=row.get("handed_off", 0),
                    unanswered=contacts - row.get("answered", 0) - row.get("handed_off", 0),
                    by_language=by_language.get(index, {}),
                    by_channel=by_channel.get(index, {}),
                    top_topics=topics.get(index, []),
                )
            )
        return figures

    async def _new_beneficiaries(self, connection: AsyncConnection) -> list[tuple[int, int]]:
        """People whose first help this calendar year falls in each month."""
        first_help = (
            select(Contact.person_key, func.min(Contact.started_at).label("first"))
            .where(
                Contact.helped,
                Contact.started_at >= self.year_start,
                Contact.started_at < self.bounds[-1],
            )
            .group_by(Contact.person_key)
            .subquery()
        )
        bucket = _bucket(first_help.c.first, self.bounds)
        rows = await connection.execute(
            select(bucket, func.count())
            .where(first_help.c.first >= self.bounds[0])
            .group_by(bucket)
        )
        return [(index, count) for index, count in rows]

    async def _helped_by(
        self,
        connection: AsyncConnection,
        column: Any,
    ) -> dict[int, dict[str, int]]:
        rows = await connection.execute(
            select(self.bucket, column, func.count(func.distinct(Contact.person_key)))
            .where(self.in_range, Contact.helped)
            .group_by(self.bucket, column)
        )
        found: dict[int, dict[str, int]] = defaultdict(dict)
        for index, value, count in rows:
            found[index][value or "unknown"] = count
        return {index: dict(sorted(values.items())) for index, values in found.items()}

    async def _topics(self, connection: AsyncConnection) -> dict[int, list[tuple[str, int]]]:
        rows = await connection.execute(
            select(self.bucket, ContactTopic.topic_id, func.count())
            .join(Contact, Contact.id == ContactTopic.contact_id)
            .where(self.in_range)
            .group_by(self.bucket, ContactTopic.topic_id)
        )
        ordered = sorted(rows, key=lambda row: (row[0], -row[2], row[1]))
        return {
            index: [(topic, count) for _, topic, count in list(group)[:TOP_TOPICS]]
            for index, group in groupby(ordered, key=lambda row: int(row[0]))
        }


async def year_to_date(
    connection: AsyncConnection, year: int, as_of: date, zone: ZoneInfo
) -> YearToDate:
    """Beneficiaries from 1 January to the end of ``as_of``, against the target."""
    start = Month(year, 1).start(zone)
    end_of_day = datetime.combine(as_of, time.max, tzinfo=zone).astimezone(UTC)
    beneficiaries = int(
        await connection.scalar(
            select(func.count(func.distinct(Contact.person_key))).where(
                Contact.helped, Contact.started_at >= start, Contact.started_at <= end_of_day
            )
        )
        or 0
    )
    days_in_year = 366 if calendar.isleap(year) else 365
    elapsed = min(days_in_year, max(1, (as_of - date(year, 1, 1)).days + 1))
    projection = round(beneficiaries * days_in_year / elapsed)
    months_left = 12 - as_of.month if elapsed < days_in_year else 0
    missing = max(0, BENEFICIARY_TARGET - beneficiaries)
    needed = -(-missing // months_left) if months_left else missing
    return YearToDate(year, as_of, beneficiaries, BENEFICIARY_TARGET, projection, needed)


async def indicators(
    connection: AsyncConnection,
    first: Month,
    last: Month,
    zone: ZoneInfo,
    entries_per_language: Mapping[str, int],
) -> Indicators:
    start, end = first.start(zone), last.next().start(zone)
    votes = {
        bool(positive): int(count)
        for positive, count in await connection.execute(
            select(Assessment.positive, func.count())
            .where(Assessment.created_at >= start, Assessment.created_at < end)
            .group_by(Assessment.positive)
        )
    }
    first_version = select(func.min(KnowledgeVersion.id)).scalar_subquery()
    updates = await connection.scalar(
        select(func.count()).where(
            KnowledgeVersion.loaded_at >= start,
            KnowledgeVersion.loaded_at < end,
            KnowledgeVersion.id > first_version,
        )
    )
    return Indicators(
        procedures_translated=dict(entries_per_language),
        assessments_positive=votes.get(True, 0),
        assessments_negative=votes.get(False, 0),
        welcome_package_updates=int(updates or 0),
    )


async def build_report(
    engine: AsyncEngine,
    months: Sequence[Month],
    *,
    zone: ZoneInfo,
    now: datetime,
    entries_per_language: Mapping[str, int],
) -> Report:
    """The report over ``months`` (consecutive), as of ``now``."""
    today = now.astimezone(zone).date()
    last = months[-1]
    last_day = date(last.year, last.month, calendar.monthrange(last.year, last.month)[1])
    async with engine.connect() as connection:
        figures: list[MonthFigures] = []
        for _, same_year in groupby(months, key=lambda month: month.year):
            figures += await _YearSlice(list(same_year), zone).figures(connection)
        ytd = await year_to_date(connection, last.year, min(today, last_day), zone)
        extra = await indicators(connection, months[0], last, zone, entries_per_language)
    return Report(now, figures, ytd, extra)

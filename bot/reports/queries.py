"""The report's numbers, computed in SQL from the monthly roll-ups, never rows in Python.

``person_months`` holds one row per person and month they were reached in and
``topic_months`` one per topic and month, both written with the contacts they sum (see
bot/storage/contacts.py). A contact belongs to the month in which it started (Europe/Warsaw
time). A person counts once in a month's beneficiaries, under the language of their first
help in it, and once in a year's: in the month of their first help that year.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from itertools import groupby
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.reports.figures import (
    BENEFICIARY_TARGET,
    Indicators,
    MonthFigures,
    Report,
    YearToDate,
)
from bot.reports.periods import Month
from bot.storage.models import Assessment, KnowledgeVersion, PersonMonth, TopicMonth

TOP_TOPICS: Final = 10


def _count_if(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


async def month_figures(connection: AsyncConnection, months: Sequence[Month]) -> list[MonthFigures]:
    """Each month's counts, for consecutive ``months``."""
    in_range = PersonMonth.month.between(str(months[0]), str(months[-1]))
    counts: dict[str, dict[str, int]] = {}
    for month, *values in await connection.execute(
        select(
            PersonMonth.month,
            func.count(),
            _count_if(PersonMonth.helped),
            _count_if(PersonMonth.new_in_year),
            func.sum(PersonMonth.contacts),
            func.sum(PersonMonth.answered),
            func.sum(PersonMonth.handed_off),
        )
        .where(in_range)
        .group_by(PersonMonth.month)
    ):
        names = ("reached", "beneficiaries", "new", "contacts", "answered", "handed_off")
        counts[month] = {name: int(value or 0) for name, value in zip(names, values, strict=True)}
    by_language = await _helped_by(connection, in_range, PersonMonth.language)
    by_channel = await _helped_by(connection, in_range, PersonMonth.channel)
    topics = await _top_topics(connection, months)
    figures = []
    for month in map(str, months):
        row = counts.get(month, {})
        contacts = row.get("contacts", 0)
        beneficiaries = row.get("beneficiaries", 0)
        figures.append(
            MonthFigures(
                month=Month.parse(month),
                beneficiaries=beneficiaries,
                new_beneficiaries=row.get("new", 0),
                reached_not_helped=row.get("reached", 0) - beneficiaries,
                contacts=contacts,
                answered=row.get("answered", 0),
                handed_off=row.get("handed_off", 0),
                unanswered=contacts - row.get("answered", 0) - row.get("handed_off", 0),
                by_language=by_language.get(month, {}),
                by_channel=by_channel.get(month, {}),
                top_topics=topics.get(month, []),
            )
        )
    return figures


async def _helped_by(
    connection: AsyncConnection, in_range: Any, column: Any
) -> dict[str, dict[str, int]]:
    rows = await connection.execute(
        select(PersonMonth.month, column, func.count())
        .where(in_range, PersonMonth.helped)
        .group_by(PersonMonth.month, column)
    )
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for month, value, count in rows:
        found[month][value or "unknown"] = count
    return {month: dict(sorted(values.items())) for month, values in found.items()}


async def _top_topics(
    connection: AsyncConnection, months: Sequence[Month]
) -> dict[str, list[tuple[str, int]]]:
    # Already one row per topic and month: at most a few hundred a year.
    rows = await connection.execute(
        select(TopicMonth.month, TopicMonth.topic_id, TopicMonth.contacts).where(
            TopicMonth.month.between(str(months[0]), str(months[-1]))
        )
    )
    ordered = sorted(rows, key=lambda row: (row[0], -row[2], row[1]))
    return {
        month: [(topic, count) for _, topic, count in list(group)[:TOP_TOPICS]]
        for month, group in groupby(ordered, key=lambda row: str(row[0]))
    }


async def year_to_date(connection: AsyncConnection, year: int, as_of: date) -> YearToDate:
    """Beneficiaries from 1 January to the end of ``as_of``'s month, against the target."""
    beneficiaries = int(
        await connection.scalar(
            select(func.count()).where(
                PersonMonth.new_in_year,
                PersonMonth.month.between(f"{year:04d}-01", str(Month.of(as_of))),
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
        figures = await month_figures(connection, months)
        ytd = await year_to_date(connection, last.year, min(today, last_day))
        extra = await indicators(connection, months[0], last, zone, entries_per_language)
    return Report(now, figures, ytd, extra)

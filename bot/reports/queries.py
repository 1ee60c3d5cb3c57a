"""The report's numbers, read from the monthly roll-ups: a few hundred rows a month at most,
never the contacts.

``month_totals`` (by month, channel and language) and ``topic_months`` are written with the
contacts they sum (see bot/storage/contacts.py). A contact belongs to the month in which it
started (Europe/Warsaw time). A person counts once in a month's beneficiaries, under the
language of their first help in it, and once in a year's: in the month of their first help
that year.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from itertools import groupby
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.reports.figures import (
    BENEFICIARY_TARGET,
    Indicators,
    MonthFigures,
    Report,
    YearToDate,
)
from bot.reports.periods import Month
from bot.storage.models import (
    MONTH_COUNTS,
    Assessment,
    KnowledgeVersion,
    MonthTotal,
    TopicMonth,
)

TOP_TOPICS: Final = 10


async def month_figures(connection: AsyncConnection, months: Sequence[Month]) -> list[MonthFigures]:
    """Each month's counts, for consecutive ``months``."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_language: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_channel: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = await connection.execute(
        select(
            MonthTotal.month,
            MonthTotal.channel,
            MonthTotal.language,
            *(getattr(MonthTotal, name) for name in MONTH_COUNTS),
        ).where(MonthTotal.month.between(str(months[0]), str(months[-1])))
    )
    # At most months × channels × languages × shards rows (a few thousand a year): summed
    # here rather than in three queries.
    for month, channel, language, *values in rows:
        row = dict(zip(MONTH_COUNTS, values, strict=True))
        for name, value in row.items():
            counts[month][name] += value
        if row["beneficiaries"]:
            by_language[month][language or "unknown"] += row["beneficiaries"]
            by_channel[month][channel] += row["beneficiaries"]
    topics = await _top_topics(connection, months)
    figures = []
    for month in map(str, months):
        row = counts[month]
        figures.append(
            MonthFigures(
                month=Month.parse(month),
                beneficiaries=row["beneficiaries"],
                new_beneficiaries=row["new_beneficiaries"],
                reached_not_helped=row["reached"] - row["beneficiaries"],
                contacts=row["contacts"],
                answered=row["answered"],
                handed_off=row["handed_off"],
                unanswered=row["contacts"] - row["answered"] - row["handed_off"],
                by_language=_positive_sorted(by_language[month]),
                by_channel=_positive_sorted(by_channel[month]),
                top_topics=topics.get(month, []),
            )
        )
    return figures


def _positive_sorted(counts: Mapping[str, int]) -> dict[str, int]:
    return {key: value for key, value in sorted(counts.items()) if value}


async def _top_topics(
    connection: AsyncConnection, months: Sequence[Month]
) -> dict[str, list[tuple[str, int]]]:
    # One row per topic, month and shard: summed here to a few hundred a year.
    contacts = func.sum(TopicMonth.contacts)
    rows = await connection.execute(
        select(TopicMonth.month, TopicMonth.topic_id, contacts)
        .where(TopicMonth.month.between(str(months[0]), str(months[-1])))
        .group_by(TopicMonth.month, TopicMonth.topic_id)
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
            select(func.sum(MonthTotal.new_beneficiaries)).where(
                MonthTotal.month.between(f"{year:04d}-01", str(Month.of(as_of)))
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

"""What a report says, as plain data: the formats (table, CSV, JSON, XLSX) only render it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final

from bot.reports.periods import Month

BENEFICIARY_TARGET: Final = 4000
"""The programme's indicator: beneficiaries a year."""
PROCEDURES_TARGET: Final = 50
"""The programme's indicator: procedures available in foreign languages."""


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """One month's counts (see the README, "How we count")."""

    month: Month
    beneficiaries: int = 0
    new_beneficiaries: int = 0
    """Helped this month for the first time this calendar year."""
    reached_not_helped: int = 0
    contacts: int = 0
    answered: int = 0
    handed_off: int = 0
    unanswered: int = 0
    by_language: dict[str, int] = field(default_factory=dict)
    """Beneficiaries by the language of their first help in the month."""
    by_channel: dict[str, int] = field(default_factory=dict)
    """Beneficiaries by channel."""
    top_topics: list[tuple[str, int]] = field(default_factory=list)
    """Topics answered, by the number of contacts they were answered in."""


@dataclass(frozen=True, slots=True)
class YearToDate:
    """Progress against the yearly target, with a straight-line projection."""

    year: int
    as_of: date
    beneficiaries: int
    target: int
    projection: int
    """Beneficiaries at this pace by 31 December (the actual count once the year is over)."""
    needed_per_month: int
    """New beneficiaries still needed in each remaining month; 0 once the target is met."""

    @property
    def on_track(self) -> bool:
        return self.projection >= self.target


@dataclass(frozen=True, slots=True)
class Indicators:
    """The programme's other indicators the bot can measure, over the report's period."""

    procedures_translated: dict[str, int]
    """Knowledge entries available in each language."""
    assessments_positive: int
    assessments_negative: int
    welcome_package_updates: int
    """New knowledge-base contents loaded in the period."""


@dataclass(frozen=True, slots=True)
class Report:
    """A report over one or more consecutive months."""

    generated_at: datetime
    months: list[MonthFigures]
    year_to_date: YearToDate
    indicators: Indicators

    @property
    def first(self) -> Month:
        return self.months[0].month

    @property
    def last(self) -> Month:
        return self.months[-1].month

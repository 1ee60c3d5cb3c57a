"""Months and years as the city counts them: boundaries in Europe/Warsaw time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ValueError):
    """A month or range the report cannot cover, said in one line."""


@dataclass(frozen=True, order=True, slots=True)
class Month:
    """A calendar month."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """ "2026-10" -> Month(2026, 10)."""
        found = _MONTH.match(text.strip())
        if found is None or not 1 <= int(found.group(2)) <= 12:
            raise PeriodError(f"{text!r} is not a month written as YYYY-MM")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def start(self, zone: ZoneInfo) -> datetime:
        """The first instant of the month in ``zone``, in UTC (how times are stored)."""
        return datetime(self.year, self.month, 1, tzinfo=zone).astimezone(UTC)


def months_between(first: Month, last: Month) -> list[Month]:
    """Every month from ``first`` to ``last``, both included."""
    if last < first:
        raise PeriodError(f"{last} is before {first}")
    months = [first]
    while months[-1] < last:
        months.append(months[-1].next())
    return months


def year_months(year: int) -> list[Month]:
    return months_between(Month(year, 1), Month(year, 12))

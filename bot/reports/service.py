"""Choosing a report's months and rendering it in a format (counting is in queries.py)."""

from __future__ import annotations

from typing import Literal

from bot.reports.figures import Report
from bot.reports.formats import as_csv, as_json, as_table
from bot.reports.periods import Month, PeriodError, months_between, year_months
from bot.reports.xlsx import as_xlsx

Format = Literal["table", "csv", "xlsx", "json"]


def choose_months(
    *,
    month: str | None = None,
    year: int | None = None,
    first: str | None = None,
    last: str | None = None,
) -> list[Month]:
    """Exactly one of: a month, a year, or a range from ``first`` to ``last``."""
    chosen = [month is not None, year is not None, first is not None or last is not None]
    if sum(chosen) != 1:
        raise PeriodError("give one of --month YYYY-MM, --year YYYY, or --from and --to")
    if month is not None:
        return [Month.parse(month)]
    if year is not None:
        if not 2000 <= year <= 2100:
            raise PeriodError(f"{year} is not a year this bot can have data for")
        return year_months(year)
    if first is None or last is None:
        raise PeriodError("--from and --to go together")
    return months_between(Month.parse(first), Month.parse(last))


def render(report: Report, output_format: Format, language: str) -> bytes:
    """The report in ``output_format``, labelled in ``language`` (pl or en)."""
    if output_format == "xlsx":
        return as_xlsx(report, language)
    if output_format == "json":
        return as_json(report).encode()
    if output_format == "csv":
        return as_csv(report, language).encode()
    return as_table(report, language).encode()

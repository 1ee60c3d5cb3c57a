"""When Information Point staff are at work: weekly hours minus Polish public holidays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

SEARCH_DAYS = 21
"""How far ahead to look for the next opening (longer than any run of holidays and weekends)."""


def easter_sunday(year: int) -> date:
    """Western (Gregorian) Easter Sunday, by the anonymous Gregorian computus."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=16)
def polish_public_holidays(year: int) -> frozenset[date]:
    """Statutory days off work in Poland (ustawa o dniach wolnych od pracy)."""
    easter = easter_sunday(year)
    fixed = [(1, 1), (1, 6), (5, 1), (5, 3), (8, 15), (11, 1), (11, 11), (12, 25), (12, 26)]
    days = {date(year, month, day) for month, day in fixed}
    days |= {
        easter,
        easter + timedelta(days=1),  # Easter Monday
        easter + timedelta(days=49),  # Pentecost Sunday
        easter + timedelta(days=60),  # Corpus Christi
    }
    if year >= 2025:  # Christmas Eve became a public holiday in 2025.
        days.add(date(year, 12, 24))
    return frozenset(days)


@dataclass(frozen=True, slots=True)
class OfficeHours:
    """Opening hours per weekday (0 = Monday), in the office's time zone."""

    zone: ZoneInfo
    weekly: dict[int, tuple[time, time]]

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        hours = self._hours_on(local.date())
        return hours is not None and hours[0] <= local.time() < hours[1]

    def next_opening(self, moment: datetime) -> datetime | None:
        """When staff are next at work after ``moment`` (local time); None if never."""
        local = moment.astimezone(self.zone)
        for offset in range(SEARCH_DAYS):
            day = local.date() + timedelta(days=offset)
            hours = self._hours_on(day)
            if hours is None:
                continue
            opening = datetime.combine(day, hours[0], tzinfo=self.zone)
            if opening > local:
                return opening
        return None

    def _hours_on(self, day: date) -> tuple[time, time] | None:
        if day in polish_public_holidays(day.year):
            return None
        return self.weekly.get(day.weekday())


def parse_weekly_hours(text: str) -> dict[int, tuple[time, time]]:
    """ "mon-fri 09:00-17:00; sat 10:00-14:00" -> {0: (9:00, 17:00), …, 5: (10:00, 14:00)}."""
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    weekly: dict[int, tuple[time, time]] = {}
    for part in filter(None, (piece.strip() for piece in text.lower().split(";"))):
        try:
            days, hours = part.split()
            opening, closing = (time.fromisoformat(value) for value in hours.split("-"))
            first, _, last = days.partition("-")
            start, end = names.index(first), names.index(last or first)
        except ValueError as error:
            raise ValueError(
                f"office hours {part!r} are not written like 'mon-fri 09:00-17:00'"
            ) from error
        if closing <= opening:
            raise ValueError(f"office hours {part!r} close before they open")
        for weekday in range(start, end + 1):
            weekly[weekday] = (opening, closing)
    return weekly

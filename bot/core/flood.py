"""Per-person flood control: past a number of messages a minute, one polite notice, then
silence without database writes until the person's window has room again."""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

WINDOW: Final = timedelta(minutes=1)
TRACKED_PEOPLE: Final = 50_000
"""Windows kept at most; the least recently active person's is forgotten first."""


class Verdict(StrEnum):
    ALLOW = "allow"
    WARN = "warn"
    """Over the limit for the first time in this window: tell the person once."""
    DROP = "drop"


@dataclass(slots=True)
class _Window:
    times: deque[datetime] = field(default_factory=deque)
    warned: bool = False


class FloodGate:
    """Counts each person's messages over a sliding minute (by the messages' own times)."""

    def __init__(self, per_minute: int) -> None:
        self._limit = per_minute
        self._windows: OrderedDict[str, _Window] = OrderedDict()

    def check(self, key: str, at: datetime) -> Verdict:
        window = self._windows.pop(key, None) or _Window()
        self._windows[key] = window  # most recently active last
        if len(self._windows) > TRACKED_PEOPLE:
            self._windows.popitem(last=False)
        while window.times and at - window.times[0] >= WINDOW:
            window.times.popleft()
        if len(window.times) < self._limit:
            window.times.append(at)
            window.warned = False
            return Verdict.ALLOW
        if window.warned:
            return Verdict.DROP
        window.warned = True
        return Verdict.WARN


class RecentLanguages:
    """The language each recently active person was last answered in, known without a
    database read: flood control answers outside any transaction."""

    def __init__(self, size: int = TRACKED_PEOPLE) -> None:
        self._size = size
        self._languages: OrderedDict[str, str] = OrderedDict()

    def remember(self, key: str, language: str) -> None:
        self._languages.pop(key, None)
        self._languages[key] = language
        if len(self._languages) > self._size:
            self._languages.popitem(last=False)

    def get(self, key: str) -> str | None:
        return self._languages.get(key)

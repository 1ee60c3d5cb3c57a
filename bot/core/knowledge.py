"""The knowledge base as the dialogue sees it: topics, categories and a search port."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final, Protocol

from bot.core.i18n import N_


class Handoff(StrEnum):
    """Whether a topic's answer should come with, or from, a person."""

    NEVER = "never"
    OFFER = "offer"
    ALWAYS = "always"


CATEGORIES: Final[Mapping[str, str]] = {
    # id -> English label (a msgid); the order is the main menu's order.
    "infopoint": N_("Information Point and the city"),
    "stay": N_("Legal stay"),
    "docs": N_("Documents and registration"),
    "work": N_("Work"),
    "health": N_("Health"),
    "education": N_("Education"),
    "social": N_("Social support and housing"),
    "transport": N_("Transport"),
    "safety": N_("Safety and rights"),
    "money": N_("Taxes and banking"),
    "consulates": N_("Consulates"),
}


@dataclass(frozen=True, slots=True)
class Source:
    """Where the facts of an answer come from."""

    title: str
    url: str


@dataclass(frozen=True, slots=True)
class LocalizedEntry:
    """A topic's text in one language."""

    title: str
    answer: str
    questions: tuple[str, ...]
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Topic:
    """One knowledge entry: an answer in every language, with its sources and check date."""

    id: str
    category: str
    handoff: Handoff
    checked: date
    sources: tuple[Source, ...]
    texts: Mapping[str, LocalizedEntry]

    def text_for(self, language: str) -> tuple[str, LocalizedEntry]:
        """The entry in ``language``, else the first available (language, entry) pair."""
        if language in self.texts:
            return language, self.texts[language]
        fallback = next(iter(self.texts))
        return fallback, self.texts[fallback]


@dataclass(frozen=True, slots=True)
class Match:
    """A topic the search found for a question, with a score from 0 to 100."""

    topic_id: str
    score: float


class KnowledgeBase(Protocol):
    """Read access to the loaded topics, and search over them."""

    def topic(self, topic_id: str) -> Topic | None:
        """The topic with this id, if there is one."""
        ...

    def topics_in(self, category: str) -> list[Topic]:
        """The topics of a category, in a stable order."""
        ...

    def categories(self) -> list[str]:
        """The category ids that have at least one topic, in menu order."""
        ...

    def search(self, text: str) -> list[Match]:
        """Candidate topics for a question, best first."""
        ...

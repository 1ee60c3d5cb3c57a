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
        """The entry in ``language``, else the first of FALLBACK_ORDER the topic has."""
        for candidate in (language, *FALLBACK_ORDER):
            if candidate in self.texts:
                return candidate, self.texts[candidate]
        fallback = next(iter(self.texts))
        return fallback, self.texts[fallback]


FALLBACK_ORDER: Final = ("en", "pl", "uk", "ru")
"""Which language a topic missing the person's own is shown in: English is the one most
newcomers share, Polish the one of the offices; Russian is never imposed on Ukrainians first."""


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


class Decision(StrEnum):
    """What the bot does with a question, by how sure retrieval is."""

    ANSWER = "answer"
    CLARIFY = "clarify"
    """Two or more close candidates: ask "did you mean …?" with a button for each."""
    ABSTAIN = "abstain"


@dataclass(frozen=True, slots=True)
class Calibration:
    """Score thresholds (0-100), tuned on tests/data/eval_questions.jsonl."""

    answer_at: float
    """The lowest top score answered directly, when it leads the runner-up by ``margin``."""
    margin: float
    clarify_at: float
    """The lowest score a candidate needs to be offered in "did you mean"."""


DEFAULT_CALIBRATION: Final = Calibration(answer_at=58.0, margin=22.0, clarify_at=35.0)


@dataclass(frozen=True, slots=True)
class Resolution:
    """The decision for one question and the candidates behind it."""

    decision: Decision
    candidates: tuple[Match, ...]

    @property
    def topic_id(self) -> str | None:
        """The topic answered directly, if any."""
        return self.candidates[0].topic_id if self.decision is Decision.ANSWER else None


def resolve(matches: list[Match], calibration: Calibration = DEFAULT_CALIBRATION) -> Resolution:
    """Answer when one topic clearly leads, clarify between close ones, else abstain."""
    if not matches or matches[0].score < calibration.clarify_at:
        return Resolution(Decision.ABSTAIN, ())
    top = matches[0]
    runner_up = matches[1].score if len(matches) > 1 else 0.0
    if top.score >= calibration.answer_at and top.score - runner_up >= calibration.margin:
        return Resolution(Decision.ANSWER, (top,))
    close = tuple(
        match
        for match in matches[:3]
        if match.score >= calibration.clarify_at and top.score - match.score < calibration.margin
    )
    if len(close) >= 2:
        return Resolution(Decision.CLARIFY, close)
    return Resolution(Decision.ABSTAIN, ())

"""The knowledge base in memory, with a first fuzzy search over questions and keywords.

This is the simple version the foundation needs; the retrieval issue replaces the scoring.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.core.knowledge import CATEGORIES, Match, Topic
from bot.core.text import words

_MIN_FUZZY_QUERY_CHARS = 5
_MIN_EXACT_KEYWORD_CHARS = 3
_MIN_FUZZY_KEYWORD_CHARS = 5


@dataclass(frozen=True, slots=True)
class _Index:
    questions: tuple[str, ...]
    keywords: tuple[str, ...]


def _normalise(text: str) -> str:
    return " ".join(words(text))


class InMemoryKnowledgeBase:
    """Topics held in memory; implements bot.core.knowledge.KnowledgeBase."""

    def __init__(self, topics: Iterable[Topic]) -> None:
        self._topics = {topic.id: topic for topic in topics}
        self._index = {
            topic.id: _Index(
                questions=tuple(
                    _normalise(text)
                    for entry in topic.texts.values()
                    for text in (entry.title, *entry.questions)
                ),
                keywords=tuple(
                    _normalise(keyword)
                    for entry in topic.texts.values()
                    for keyword in entry.keywords
                ),
            )
            for topic in self._topics.values()
        }

    def __len__(self) -> int:
        return len(self._topics)

    def topic(self, topic_id: str) -> Topic | None:
        return self._topics.get(topic_id)

    def topics_in(self, category: str) -> list[Topic]:
        return sorted(
            (topic for topic in self._topics.values() if topic.category == category),
            key=lambda topic: topic.id,
        )

    def categories(self) -> list[str]:
        present = {topic.category for topic in self._topics.values()}
        return [category for category in CATEGORIES if category in present]

    def search(self, text: str) -> list[Match]:
        query = _normalise(text)
        if not query:
            return []
        scored = [
            Match(topic_id, self._score(query, index)) for topic_id, index in self._index.items()
        ]
        return sorted((m for m in scored if m.score > 0), key=lambda m: -m.score)[:5]

    @staticmethod
    def _score(query: str, index: _Index) -> float:
        best = 0.0
        # Fuzzy similarity to whole questions means little for one short word ("uk", "3").
        if len(query) >= _MIN_FUZZY_QUERY_CHARS:
            best = max(
                (fuzz.token_sort_ratio(query, question) for question in index.questions),
                default=0.0,
            )
        padded = f" {query} "
        for keyword in index.keywords:
            # A keyword standing as whole words in the question is strong evidence ("nfz",
            # "karta pobytu"); a near-miss spelling of a longer one (one typo) a little less.
            if len(keyword) >= _MIN_EXACT_KEYWORD_CHARS and f" {keyword} " in padded:
                best = max(best, 90.0)
            elif (
                len(keyword) >= _MIN_FUZZY_KEYWORD_CHARS
                and fuzz.partial_ratio(keyword, query) >= 90
            ):
                best = max(best, 80.0)
        return best

"""The best single document per topic: an example question or title by cosine, or a keyword
wholly contained in the question."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from bot.core.knowledge import Topic
from bot.knowledge.normalise import stems
from bot.knowledge.stopwords import STOP_STEMS

KEYWORD_WEIGHT: Final = 0.85
"""A keyword fully present is strong evidence, but less than a near-identical question."""


def content_stems(text: str) -> list[str]:
    """The stems of ``text`` that can say something about a topic."""
    return [stem for stem in stems(text) if stem not in STOP_STEMS]


@dataclass(frozen=True, slots=True)
class _Document:
    topic_id: str
    norm_squared: float
    keyword_weight: float
    """0 for titles and questions; for a keyword, how much its presence says."""


class DocumentIndex:
    """An inverted index of stems over all titles, questions and keywords."""

    def __init__(self, topics: Iterable[Topic], idf: Mapping[str, float]) -> None:
        texts: list[tuple[str, bool, frozenset[str]]] = []
        for topic in topics:
            for entry in topic.texts.values():
                for text in (entry.title, *entry.questions):
                    texts.append((topic.id, False, frozenset(content_stems(text))))
                for keyword in entry.keywords:
                    texts.append((topic.id, True, frozenset(content_stems(keyword))))
        # A keyword several topics share ("karta pobytu" matters to banks too) says less about
        # which topic is meant: its weight falls with the number of topics using it.
        keyword_topics: dict[frozenset[str], set[str]] = defaultdict(set)
        for topic_id, is_keyword, content in texts:
            if is_keyword:
                keyword_topics[content].add(topic_id)
        self._documents: list[_Document] = []
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for topic_id, is_keyword, content in texts:
            if not content:
                continue
            weights = {stem: idf[stem] for stem in content}
            keyword_weight = (
                KEYWORD_WEIGHT / math.sqrt(len(keyword_topics[content])) if is_keyword else 0.0
            )
            for stem, weight in weights.items():
                self._postings[stem].append((len(self._documents), weight))
            self._documents.append(
                _Document(topic_id, sum(w * w for w in weights.values()), keyword_weight)
            )

    def best_per_topic(self, query: Mapping[str, float]) -> dict[str, float]:
        """Each topic's best document score (0 to 1) for the weighted query stems."""
        query_norm_squared = sum(w * w for w in query.values())
        dots: dict[int, float] = defaultdict(float)
        for stem, weight in query.items():
            for index, doc_weight in self._postings.get(stem, ()):
                dots[index] += weight * doc_weight
        best: dict[str, float] = {}
        for index, dot in dots.items():
            document = self._documents[index]
            if document.keyword_weight:
                score = document.keyword_weight * min(1.0, dot / document.norm_squared)
            else:
                score = dot / math.sqrt(query_norm_squared * document.norm_squared)
            if score > best.get(document.topic_id, 0.0):
                best[document.topic_id] = score
        return best

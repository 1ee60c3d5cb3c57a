"""The best single document per topic: an example question or title by cosine, or a keyword
wholly contained in the question."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt

from bot.core.knowledge import Topic
from bot.knowledge.normalise import stems
from bot.knowledge.stopwords import STOP_STEMS

KEYWORD_WEIGHT: Final = 0.85
"""A keyword fully present is strong evidence, but less than a near-identical question."""


def content_stems(text: str) -> list[str]:
    """The stems of ``text`` that can say something about a topic."""
    return [stem for stem in stems(text) if stem not in STOP_STEMS]


class Sparse(NamedTuple):
    """Values at some indices of a vector (documents of a stem, topics of a stem)."""

    indices: npt.NDArray[np.intp]
    values: npt.NDArray[np.float64]

    @classmethod
    def from_pairs(cls, pairs: list[tuple[int, float]]) -> Sparse:
        return cls(
            np.array([index for index, _ in pairs], dtype=np.intp),
            np.array([value for _, value in pairs]),
        )


class DocumentIndex:
    """An inverted index of stems over all titles, questions and keywords.

    Scores are computed with numpy over the postings of the question's stems, so a question
    costs the same few array operations whether the base has 50 topics or 1,000.
    """

    def __init__(
        self, topics: Iterable[Topic], idf: Mapping[str, float], topic_index: Mapping[str, int]
    ) -> None:
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
        self._topic_count = len(topic_index)
        document_topics: list[int] = []
        norms_squared: list[float] = []
        keyword_weights: list[float] = []
        postings: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        for topic_id, is_keyword, content in texts:
            if not content:
                continue
            document = len(document_topics)
            for stem in sorted(content):
                postings[stem][0].append(document)
                postings[stem][1].append(idf[stem])
            document_topics.append(topic_index[topic_id])
            norms_squared.append(sum(idf[stem] ** 2 for stem in content))
            keyword_weights.append(
                KEYWORD_WEIGHT / math.sqrt(len(keyword_topics[content])) if is_keyword else 0.0
            )
        self._document_topics = np.array(document_topics, dtype=np.intp)
        self._norms_squared = np.array(norms_squared)
        self._keyword_weights = np.array(keyword_weights)
        self._postings = {
            stem: Sparse(np.array(documents, dtype=np.intp), np.array(weights))
            for stem, (documents, weights) in postings.items()
        }

    def best_per_topic(
        self, query: Mapping[str, float], contenders: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.float64]:
        """Each topic's best document score (0 to 1) for the weighted query stems; 0 for
        topics not among ``contenders`` (they cannot change the ranking, see search.py).

        A question or title scores its cosine to the query; a keyword scores its weight
        times the share of it the query contains.
        """
        dots = np.zeros(len(self._document_topics))
        for stem, weight in query.items():
            postings = self._postings.get(stem)
            if postings is not None:
                dots[postings.indices] += weight * postings.values
        touched = np.flatnonzero(dots)
        touched = touched[contenders[self._document_topics[touched]]]
        dot = dots[touched]
        norm_squared = self._norms_squared[touched]
        keyword_weight = self._keyword_weights[touched]
        query_norm_squared = sum(w * w for w in query.values())
        scores = np.where(
            keyword_weight > 0,
            keyword_weight * np.minimum(1.0, dot / norm_squared),
            dot / np.sqrt(query_norm_squared * norm_squared),
        )
        best = np.zeros(self._topic_count)
        np.maximum.at(best, self._document_topics[touched], scores)
        return best

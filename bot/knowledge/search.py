"""Retrieval: which topic a question is about, and how sure we are.

Every title, example question and keyword of every language is reduced to skeleton stems
(normalise.py), so "карта побиту", "karta pobytu" and "karte pobytu" meet. Three signals are
blended, each from 0 to 1:

- naive Bayes over stems: which topic's texts make the question's words likely; it rewards
  words characteristic of one topic ("консульство") over words shared by many ("Kraków");
- coverage: the idf-weighted share of the question's words the topic knows at all (its
  answer text counts a little), so a long question full of context still finds its topic;
- the best single document: cosine to one example question, or a whole keyword contained.

Query words missing from the vocabulary are matched to their nearest stem (typos).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Final

from rapidfuzz import fuzz, process

from bot.core.knowledge import CATEGORIES, Match, Topic
from bot.knowledge.documents import DocumentIndex, content_stems
from bot.knowledge.out_of_scope import TOPIC_ID as OUT_OF_SCOPE
from bot.knowledge.out_of_scope import OutOfScope

TYPO_CUTOFF: Final = 80.0
"""How close (0-100) an unknown query stem must be to a vocabulary stem to count as it."""
TYPO_DISCOUNT: Final = 0.7
MIN_TYPO_LENGTH: Final = 4
ANSWER_TEXT_WEIGHT: Final = 0.3
"""How much a word found only in a topic's answer counts towards coverage."""
BAYES_SMOOTHING: Final = 0.3
BLEND: Final = (0.5, 0.4, 0.1)
"""Weights of naive Bayes, coverage and best document (tuned on the dev set)."""
MAX_MATCHES: Final = 5


class RetrievalIndex:
    """Scores every topic for a question; see the module docstring."""

    def __init__(self, topics: Iterable[Topic], out_of_scope: OutOfScope | None = None) -> None:
        self._out_of_scope = out_of_scope or OutOfScope()
        topics = [*topics, self._out_of_scope.as_topic()]
        self._known: dict[str, set[str]] = {}
        self._answer_only: dict[str, set[str]] = {}
        self._counts: dict[str, Counter[str]] = {}
        for topic in topics:
            counts: Counter[str] = Counter()
            answer: set[str] = set()
            for entry in topic.texts.values():
                for text in (entry.title, *entry.questions, *entry.keywords):
                    counts.update(content_stems(text))
                answer.update(content_stems(entry.answer))
            self._counts[topic.id] = counts
            self._known[topic.id] = set(counts)
            self._answer_only[topic.id] = answer - set(counts)
        frequency: Counter[str] = Counter()
        for topic_id in self._counts:
            frequency.update(self._known[topic_id] | self._answer_only[topic_id])
        topic_count = max(1, len(topics))
        self.idf = {stem: math.log(1 + topic_count / n) for stem, n in frequency.items()}
        # Sorted: a typo equally close to two stems must map the same way in every process.
        self._vocabulary = sorted(stem for stem in self.idf if len(stem) >= MIN_TYPO_LENGTH)
        self._totals = {topic_id: sum(c.values()) for topic_id, c in self._counts.items()}
        self._documents = DocumentIndex(topics, self.idf)

    def query_weights(self, text: str) -> dict[str, float]:
        """The question's stems with their idf; unknown ones mapped to the vocabulary."""
        weights: dict[str, float] = {}
        for stem in content_stems(text):
            if stem in self.idf:
                weights[stem] = max(weights.get(stem, 0.0), self.idf[stem])
            elif len(stem) >= MIN_TYPO_LENGTH:
                found = process.extractOne(
                    stem, self._vocabulary, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF
                )
                if found is not None:
                    near = found[0]
                    weights[near] = max(weights.get(near, 0.0), self.idf[near] * TYPO_DISCOUNT)
        return weights

    def search(self, text: str) -> list[Match]:
        query = self.query_weights(text)
        if not query or self._out_of_scope.is_elsewhere(text):
            return []
        bayes = self._bayes(query)
        coverage = self._coverage(query)
        best_document = self._documents.best_per_topic(query)
        w_bayes, w_coverage, w_document = BLEND
        blended = {
            topic_id: w_bayes * bayes[topic_id]
            + w_coverage * coverage[topic_id]
            + w_document * best_document.get(topic_id, 0.0)
            for topic_id in self._counts
        }
        ranked = sorted(blended.items(), key=lambda item: (-item[1], item[0]))[:MAX_MATCHES]
        if ranked[0][0] == OUT_OF_SCOPE:
            return []  # closest to what we do not answer: weather, sport, recipes, chat
        ranked = [(topic_id, score) for topic_id, score in ranked if topic_id != OUT_OF_SCOPE]
        return [Match(topic_id, round(100 * score, 2)) for topic_id, score in ranked if score > 0]

    def _bayes(self, query: dict[str, float]) -> dict[str, float]:
        """Posterior over topics (softmax of idf-weighted log-likelihoods)."""
        vocabulary_size = len(self.idf)
        log_likelihood = {}
        for topic_id, counts in self._counts.items():
            denominator = self._totals[topic_id] + BAYES_SMOOTHING * vocabulary_size
            log_likelihood[topic_id] = sum(
                weight * math.log((counts.get(stem, 0) + BAYES_SMOOTHING) / denominator)
                for stem, weight in query.items()
            )
        top = max(log_likelihood.values())
        exponentials = {t: math.exp(value - top) for t, value in log_likelihood.items()}
        total = sum(exponentials.values())
        return {topic_id: value / total for topic_id, value in exponentials.items()}

    def _coverage(self, query: dict[str, float]) -> dict[str, float]:
        total = sum(query.values())
        return {
            topic_id: sum(
                weight
                if stem in self._known[topic_id]
                else ANSWER_TEXT_WEIGHT * weight
                if stem in self._answer_only[topic_id]
                else 0.0
                for stem, weight in query.items()
            )
            / total
            for topic_id in self._counts
        }


class InMemoryKnowledgeBase:
    """Topics held in memory with their retrieval index; implements core's KnowledgeBase."""

    def __init__(self, topics: Iterable[Topic], out_of_scope: OutOfScope | None = None) -> None:
        self._topics = {topic.id: topic for topic in topics}
        self._index = RetrievalIndex(self._topics.values(), out_of_scope)

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
        return self._index.search(text)

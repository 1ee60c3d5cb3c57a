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
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Final

import numpy as np
import numpy.typing as npt

from bot.core.knowledge import CATEGORIES, Match, Topic
from bot.knowledge.documents import DocumentIndex, Sparse, content_stems
from bot.knowledge.out_of_scope import TOPIC_ID as OUT_OF_SCOPE
from bot.knowledge.out_of_scope import OutOfScope
from bot.knowledge.typos import TypoIndex

TYPO_CUTOFF: Final = 80.0
"""How close (0-100) an unknown query stem must be to a vocabulary stem to count as it."""
TYPO_DISCOUNT: Final = 0.7
MIN_TYPO_LENGTH: Final = 4
TYPOS_ONLY_DISCOUNT: Final = 0.5
"""How much a question recognised only through typo matching is believed."""
ANSWER_TEXT_WEIGHT: Final = 0.3
"""How much a word found only in a topic's answer counts towards coverage."""
BAYES_SMOOTHING: Final = 0.3
BLEND: Final = (0.5, 0.4, 0.1)
"""Weights of naive Bayes, coverage and best document (tuned on the dev set)."""
MAX_MATCHES: Final = 5


class RetrievalIndex:
    """Scores every topic for a question; see the module docstring.

    Everything a question's words change is looked up through postings (stem -> topics), so
    the cost grows with the topics that share the question's words, not with all topics.
    """

    def __init__(self, topics: Iterable[Topic], out_of_scope: OutOfScope | None = None) -> None:
        self._out_of_scope = out_of_scope or OutOfScope()
        topics = [*topics, self._out_of_scope.as_topic()]
        counts: dict[str, Counter[str]] = {}
        answer_only: dict[str, set[str]] = {}
        for topic in topics:
            topic_counts: Counter[str] = Counter()
            answer: set[str] = set()
            for entry in topic.texts.values():
                for text in (entry.title, *entry.questions, *entry.keywords):
                    topic_counts.update(content_stems(text))
                answer.update(content_stems(entry.answer))
            counts[topic.id] = topic_counts
            answer_only[topic.id] = answer - set(topic_counts)
        frequency: Counter[str] = Counter()
        for topic_id, topic_counts in counts.items():
            frequency.update(set(topic_counts) | answer_only[topic_id])
        topic_count = max(1, len(topics))
        self.idf = {stem: math.log(1 + topic_count / n) for stem, n in frequency.items()}
        # Sorted inside: a typo equally close to two stems maps the same way in every process.
        self._typos = TypoIndex(
            [stem for stem in self.idf if len(stem) >= MIN_TYPO_LENGTH], TYPO_CUTOFF
        )
        # Topics by index, in id order: equal scores rank by id, as everywhere else.
        self._topic_ids = sorted(counts)
        topic_index = {topic_id: index for index, topic_id in enumerate(self._topic_ids)}
        # Naive Bayes, split so that a query touches only the topics that know its stems:
        # log P(stem|topic) = log(smoothing/denominator) + log((count+smoothing)/smoothing).
        vocabulary_size = len(self.idf)
        self._log_unseen = np.array(
            [
                math.log(
                    BAYES_SMOOTHING
                    / (sum(counts[topic_id].values()) + BAYES_SMOOTHING * vocabulary_size)
                )
                for topic_id in self._topic_ids
            ]
        )
        gains: dict[str, list[tuple[int, float]]] = defaultdict(list)
        shares: dict[str, list[tuple[int, float]]] = defaultdict(list)
        """stem -> [(topic, 1 for the topic's own words, ANSWER_TEXT_WEIGHT for its answer's)]."""
        for topic_id in self._topic_ids:
            index = topic_index[topic_id]
            for stem, count in counts[topic_id].items():
                gains[stem].append((index, math.log((count + BAYES_SMOOTHING) / BAYES_SMOOTHING)))
                shares[stem].append((index, 1.0))
            for stem in answer_only[topic_id]:
                shares[stem].append((index, ANSWER_TEXT_WEIGHT))
        self._gains = {stem: Sparse.from_pairs(pairs) for stem, pairs in gains.items()}
        self._shares = {stem: Sparse.from_pairs(pairs) for stem, pairs in shares.items()}
        self._out_of_scope_index = topic_index[OUT_OF_SCOPE]
        self._documents = DocumentIndex(topics, self.idf, topic_index)

    def query_weights(self, text: str) -> tuple[dict[str, float], bool]:
        """The question's stems with their idf, unknown ones mapped to the vocabulary (typos);
        and whether any stem was known as written."""
        weights: dict[str, float] = {}
        exact = False
        for stem in content_stems(text):
            if stem in self.idf:
                weights[stem] = max(weights.get(stem, 0.0), self.idf[stem])
                exact = True
            elif len(stem) >= MIN_TYPO_LENGTH:
                near = self._typos.nearest(stem)
                if near is not None:
                    weights[near] = max(weights.get(near, 0.0), self.idf[near] * TYPO_DISCOUNT)
        return weights, exact

    def search(self, text: str) -> list[Match]:
        query, exact = self.query_weights(text)
        if not query or self._out_of_scope.is_elsewhere(text):
            return []
        w_bayes, w_coverage, w_document = BLEND
        bayes, coverage = self._bayes_and_coverage(query)
        partial = w_bayes * bayes + w_coverage * coverage
        # The best-document signal adds at most w_document: a topic whose other signals trail
        # the MAX_MATCHES-th best by more than that cannot reach the results, so it is skipped.
        kept = min(MAX_MATCHES, len(partial))
        floor = np.partition(partial, len(partial) - kept)[len(partial) - kept] - w_document
        blended = partial + w_document * self._documents.best_per_topic(query, partial >= floor)
        ranked = np.argsort(-blended, kind="stable")[:MAX_MATCHES]
        if ranked[0] == self._out_of_scope_index:
            return []  # closest to what we do not answer: weather, sport, recipes, chat
        # Keyboard mashing ("asdkjh") lands near some stem by chance; a question with no word
        # known as written is at most a "did you mean", never a confident answer.
        certainty = 100.0 if exact else 100.0 * TYPOS_ONLY_DISCOUNT
        return [
            Match(self._topic_ids[index], round(certainty * float(blended[index]), 2))
            for index in ranked
            if index != self._out_of_scope_index and blended[index] > 0
        ]

    def _bayes_and_coverage(
        self, query: dict[str, float]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """The naive Bayes posterior over topics (softmax of idf-weighted log-likelihoods)
        and each topic's idf-weighted share of the question's stems."""
        total_weight = sum(query.values())
        log_likelihood = total_weight * self._log_unseen
        coverage = np.zeros(len(self._topic_ids))
        for stem, weight in query.items():
            if (gain := self._gains.get(stem)) is not None:
                log_likelihood[gain.indices] += weight * gain.values
            if (share := self._shares.get(stem)) is not None:
                coverage[share.indices] += share.values * (weight / total_weight)
        posterior = np.exp(log_likelihood - log_likelihood.max())
        return posterior / posterior.sum(), coverage


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

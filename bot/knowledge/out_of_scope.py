"""What the Information Point does not answer, from knowledge/_out_of_scope.yaml."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final

from bot.core.knowledge import Handoff, LocalizedEntry, Topic
from bot.core.text import words
from bot.knowledge.loader import parse_yaml

FILE_NAME: Final = "_out_of_scope.yaml"
TOPIC_ID: Final = "_out_of_scope"
"""The pseudo-topic's id: never answered, only recognised."""


@dataclass(frozen=True, slots=True)
class OutOfScope:
    """Phrases of subjects we do not answer, and places whose procedures are not ours."""

    phrases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    elsewhere: frozenset[str] = frozenset()
    """Folded words naming other countries and cities, in every form listed."""
    here: frozenset[str] = frozenset()

    def as_topic(self) -> Topic:
        """The phrases as a pseudo-topic that competes with the real ones in retrieval."""
        texts = {
            language: LocalizedEntry(title="", answer="", questions=phrases, keywords=())
            for language, phrases in self.phrases.items()
        }
        return Topic(TOPIC_ID, "", Handoff.NEVER, date.min, (), texts)

    def is_elsewhere(self, text: str) -> bool:
        """About another country or city, and not also about Kraków or Poland.

        Whole words, not stems: stemming folds "Czechia" and Polish "czego" together.
        """
        query_words = set(words(text))
        return bool(query_words & self.elsewhere) and not query_words & self.here


def load_out_of_scope(directory: Path) -> OutOfScope:
    """Read the file; an absent file means nothing is known to be out of scope."""
    path = directory / FILE_NAME
    if not path.is_file():
        return OutOfScope()
    data = parse_yaml(path.read_text(encoding="utf-8")) or {}
    phrases = {
        language: tuple(str(phrase) for phrase in items)
        for language, items in (data.get("phrases") or {}).items()
    }

    def word_set(key: str) -> frozenset[str]:
        return frozenset(word for line in data.get(key) or () for word in words(str(line)))

    return OutOfScope(phrases, word_set("elsewhere"), word_set("here"))

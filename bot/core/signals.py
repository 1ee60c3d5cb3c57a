"""Phrases that change what the bot does: danger (numbers first, a priority ticket) and a
request for a person. The lists live in knowledge/ and are reviewed like content."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.core.text import words

Phrase = tuple[str, ...]
"""A phrase as folded words; each must begin a word of the message, in order."""


def phrase(text: str) -> Phrase:
    return tuple(words(text))


def contains(message_words: list[str], wanted: Phrase) -> bool:
    """Whether the words of ``wanted`` begin consecutive words of the message."""
    size = len(wanted)
    if size == 0:
        return False
    return any(
        all(message_words[start + index].startswith(part) for index, part in enumerate(wanted))
        for start in range(len(message_words) - size + 1)
    )


def contains_any(message_words: list[str], phrases: tuple[Phrase, ...]) -> bool:
    """Whether any of ``phrases`` is in the message, as ``contains`` decides, in one search."""
    matcher = _matcher(phrases)
    return matcher is not None and matcher.search(" ".join(message_words)) is not None


@lru_cache(maxsize=256)
def _matcher(phrases: tuple[Phrase, ...]) -> re.Pattern[str] | None:
    # Words hold no spaces, so "begins a word" is "after the start or a space", and the rest
    # of that word is \S*. Every message is checked against every phrase: one regex for a
    # whole list costs a tenth of looping over its phrases.
    alternatives = [
        " ".join(re.escape(part) + r"\S*" for part in wanted) for wanted in phrases if wanted
    ]
    if not alternatives:
        return None
    return re.compile(r"(?:^| )(?:" + "|".join(alternatives) + ")")


@dataclass(frozen=True, slots=True)
class DangerCategory:
    """A kind of danger, the numbers to show for it, and the phrases that signal it."""

    id: str
    replies: dict[str, str]
    """The numbers and first advice, by language."""
    phrases: tuple[Phrase, ...]


@dataclass(frozen=True, slots=True)
class Signals:
    """Every language's phrases are checked whatever the person's language: people mix."""

    danger: tuple[DangerCategory, ...] = ()
    ask_for_person: tuple[Phrase, ...] = ()

    def danger_in(self, text: str) -> DangerCategory | None:
        """The first category (in file order, most urgent first) the text signals."""
        message = words(text)
        for category in self.danger:
            if contains_any(message, category.phrases):
                return category
        return None

    def asks_for_person(self, text: str) -> bool:
        message = words(text)
        return contains_any(message, self.ask_for_person)

"""Phrases that change what the bot does: danger (numbers first, a priority ticket) and a
request for a person. The lists live in knowledge/ and are reviewed like content."""

from __future__ import annotations

from dataclasses import dataclass

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
            if any(contains(message, wanted) for wanted in category.phrases):
                return category
        return None

    def asks_for_person(self, text: str) -> bool:
        message = words(text)
        return any(contains(message, wanted) for wanted in self.ask_for_person)

"""The one-regex phrase search decides exactly as the word-by-word definition does."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.core.signals import Phrase, contains, contains_any

# Short pieces that prefix one another, with characters a regex would take as syntax.
PIECES = st.sampled_from(["ab", "abc", "b", "ba", "c", "a.b", "a*", "(b", "й", "ї", "ab'c"])
MESSAGES = st.lists(PIECES, max_size=7)
PHRASES = st.lists(st.lists(PIECES, max_size=3).map(tuple), max_size=4).map(tuple)


@given(MESSAGES, PHRASES)
def test_contains_any_is_contains_for_each_phrase(
    message: list[str], phrases: tuple[Phrase, ...]
) -> None:
    assert contains_any(message, phrases) == any(contains(message, one) for one in phrases)


def test_a_phrase_must_begin_consecutive_words() -> None:
    phrases = (("domestic", "violen"),)
    assert contains_any(["my", "domestic", "violence", "case"], phrases)
    assert not contains_any(["domestic", "and", "violence"], phrases)
    assert not contains_any(["nondomestic", "violence"], phrases)
    assert not contains_any(["anything"], ((),))

"""Greetings and thanks: answered politely, never with a knowledge topic."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from bot.core.text import words


class SmallTalk(StrEnum):
    """The kinds of social message the bot recognises."""

    GREETING = "greeting"
    THANKS = "thanks"


_GREETINGS: Final = frozenset(
    "hello hi hey hiya morning evening good day witam czesc hej siema dzien dobry "
    "dobry wieczor привіт вітаю добрий день доброго ранку вечір вечора здрастуйте "
    "привет здравствуйте здравствуй доброе утро добрый вечер "
    "pryvit vitayu dobryi den privet zdravstvuyte zdravstvuite dobriy".split()
)
_THANKS: Final = frozenset(
    "thanks thank you thx ty cheers dziekuje dzieki dziekujemy bardzo "
    "дякую дуже спасибі спасибо большое благодарю "
    "dyakuyu diakuiu dyakuju spasybi spasibo bolshoe blagodaryu".split()
)
_FILLER: Final = frozenset("a lot so much very there bot ok okay you all".split())


def classify_small_talk(text: str) -> SmallTalk | None:
    """Greeting or thanks when every word of ``text`` is one; None for anything else.

    "Hello, how do I get a PESEL?" is a question, not a greeting, so one unknown word is
    enough to hand the text on to the knowledge search.
    """
    tokens = words(text)
    if not tokens or len(tokens) > 6:
        return None
    meaningful = [token for token in tokens if token not in _FILLER]
    if not meaningful:
        return None
    if all(token in _THANKS for token in meaningful):
        return SmallTalk.THANKS
    if all(token in _GREETINGS or token in _THANKS for token in meaningful):
        return SmallTalk.GREETING
    return None

"""Which of the four languages a message is written in (a first, rule-based version)."""

from __future__ import annotations

from collections import Counter
from typing import Final

from bot.core.i18n import LANGUAGES
from bot.core.text import words

_UKRAINIAN_LETTERS: Final = frozenset("іїєґ")
_RUSSIAN_LETTERS: Final = frozenset("ыэъё")

# Frequent short words; Latin spellings of Ukrainian and Russian are what people type on a
# phone without a Cyrillic keyboard.
_MARKERS: Final[dict[str, frozenset[str]]] = {
    "pl": frozenset(
        "jak gdzie czy jest sie nie mam moge chce potrzebuje dzien dobry prosze dziekuje "
        "dzieki czesc witam zalatwic zrobic co ile kiedy musze moj moja mi dla jestem".split()
    ),
    "en": frozenset(
        "how where what when the is are do does can need hello hi thanks thank you my get "
        "i to for of a an please want have".split()
    ),
    "uk": frozenset(
        "як де що чи мені мене потрібно треба привіт дякую будь ласка можна хочу маю його "
        "яка який отримати зробити скільки коли "
        "yak de shcho chy meni potribno treba pryvit dyakuyu diakuiu otrymaty zrobyty "
        "skilky mozhna khochu".split()
    ),
    "ru": frozenset(
        "как где что мне меня нужно надо привет спасибо пожалуйста можно хочу его какая "
        "какой получить сделать сколько когда "
        "kak gde chto mne nuzhno nado privet spasibo pozhaluysta poluchit sdelat skolko "
        "mozhno khochu hochu".split()
    ),
}


def _is_cyrillic(char: str) -> bool:
    return "\u0400" <= char <= "\u04ff"


def detect_language(text: str) -> str | None:
    """The language of ``text``, or None when the evidence is too thin to say.

    A bare term such as "PESEL" or a number says nothing about the writer's language.
    """
    tokens = words(text)
    if not tokens:
        return None
    votes: Counter[str] = Counter()
    letters = {char for token in tokens for char in token}
    if letters & _UKRAINIAN_LETTERS:
        votes["uk"] += 2
    if letters & _RUSSIAN_LETTERS:
        votes["ru"] += 2
    if any(char in "ąćęłńóśźż" for char in text.lower()):
        votes["pl"] += 2
    for token in tokens:
        for language, markers in _MARKERS.items():
            if token in markers:
                votes[language] += 1
    cyrillic = sum(1 for char in text if _is_cyrillic(char))
    latin = sum(1 for char in text if char.isascii() and char.isalpha())
    if cyrillic > latin:
        # Cyrillic text is Ukrainian or Russian: never guess Polish or English for it.
        votes = Counter({lang: n for lang, n in votes.items() if lang in ("uk", "ru")})
    ranked = votes.most_common(2)
    if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def normalise_hint(hint: str | None) -> str | None:
    """Map a platform language code ("uk", "pl-PL", "ru_RU") to a supported language."""
    if not hint:
        return None
    code = hint.replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else None

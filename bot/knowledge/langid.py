"""Which of pl, en, uk, ru a message is in: a character n-gram naive Bayes classifier.

It is trained at start-up on the knowledge base's own texts, plus those texts as people type
them without the right keyboard: Ukrainian and Russian in Latin letters, Polish without
diacritics. Letters only one language has (і ї є ґ; ы э ъ ё; ą ę ł ż …) weigh in strongly.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from bot.core.i18n import LANGUAGES
from bot.core.text import fold_latin

_UK_LATIN: Final = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie",
        "ж": "zh", "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l",
        "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
        "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ь": "",
        "ю": "iu", "я": "ia", "'": "", "’": "", "ʼ": "",
    }
)  # fmt: skip
_RU_LATIN: Final = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh",
        "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
        "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
        "ч": "ch", "ш": "sh", "щ": "sch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
        "я": "ya",
    }
)  # fmt: skip
# A second common way of writing each, so the model does not learn one scheme only.
_UK_LATIN_ALT: Final = {"ia": "ya", "iu": "yu", "ie": "ye", "kh": "h", "y": "i"}
_RU_LATIN_ALT: Final = {"kh": "h", "ya": "ja", "yu": "ju", "y": "i"}

_DISTINCT_LETTERS: Final = {
    "uk": frozenset("іїєґ"),
    "ru": frozenset("ыэъё"),
    "pl": frozenset("ąćęłńśźż"),
}
_LETTER_BONUS: Final = 6.0
_NON_LETTERS: Final = re.compile(r"[^\w']+|\d+|_")
MAX_N: Final = 4


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """The most likely language and how sure the classifier is (0 to 1)."""

    language: str
    confidence: float


def _features(text: str) -> list[str]:
    cleaned = _NON_LETTERS.sub(" ", text.lower()).split()
    grams: list[str] = []
    for word in cleaned:
        padded = f" {word} "
        for n in range(1, MAX_N + 1):
            grams += [
                padded[i : i + n] for i in range(len(padded) - n + 1) if padded[i : i + n] != " "
            ]
        grams.append(f"<{word}>")  # whole short words are strong evidence ("jak", "як", "kak")
    return grams


def _replace_all(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        text = text.replace(old, new)
    return text


def typing_variants(text: str, language: str) -> list[str]:
    """``text`` as it is also typed: transliterated (uk, ru) or without diacritics (pl)."""
    lower = text.lower()
    if language == "uk":
        latin = lower.translate(_UK_LATIN)
        return [latin, _replace_all(latin, _UK_LATIN_ALT)]
    if language == "ru":
        latin = lower.translate(_RU_LATIN)
        return [latin, _replace_all(latin, _RU_LATIN_ALT)]
    if language == "pl":
        return [fold_latin(lower)]
    return []


class NaiveBayesLanguageIdentifier:
    """Multinomial naive Bayes over character 1-4-grams and whole words."""

    def __init__(self, samples: Iterable[tuple[str, str]]) -> None:
        counts: dict[str, Counter[str]] = {language: Counter() for language in LANGUAGES}
        for text, language in samples:
            for variant in (text, *typing_variants(text, language)):
                counts[language].update(_features(variant))
        vocabulary = set().union(*counts.values())
        self._unseen: dict[str, float] = {}
        self._log_p: dict[str, dict[str, float]] = {}
        for language, counter in counts.items():
            total = sum(counter.values()) + len(vocabulary) + 1
            self._unseen[language] = math.log(1 / total)
            self._log_p[language] = {
                gram: math.log((count + 1) / total) for gram, count in counter.items()
            }

    def identify(self, text: str) -> LanguageGuess | None:
        """The language of ``text``; None when it has no letters at all."""
        features = _features(text)
        if not features:
            return None
        scores = {}
        letters = set(text.lower())
        cyrillic = sum(1 for char in text if "\u0400" <= char <= "\u04ff")
        latin = sum(1 for char in text if char.isascii() and char.isalpha())
        # Cyrillic is Ukrainian or Russian here; Latin may be any of the four (transliteration).
        candidates = ("uk", "ru") if cyrillic > latin else LANGUAGES
        for language in candidates:
            table, unseen = self._log_p[language], self._unseen[language]
            score = sum(table.get(gram, unseen) for gram in features) / len(features)
            if letters & _DISTINCT_LETTERS.get(language, frozenset()):
                score += _LETTER_BONUS / len(features) ** 0.5
            scores[language] = score
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        best, runner_up = ranked[0], ranked[1]
        margin = best[1] - runner_up[1]
        return LanguageGuess(best[0], min(1.0, margin / 0.5))

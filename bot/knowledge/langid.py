"""Which of pl, en, uk, ru a message is in: a character n-gram naive Bayes classifier.

It is trained at start-up on the knowledge base's titles and questions, the out-of-scope
phrases and the bot's own interface strings, plus those texts as people type them without the
right keyboard: Ukrainian and Russian in Latin letters, Polish without diacritics. Letters only
one language has (і ї є ґ; ы э ъ ё; ą ę ł ż …) and everyday function words ("шо", "что") weigh
in strongly; Polish office terms used in every language ("pesel", "karta pobytu") are set aside.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Final

import numpy as np

from bot.core.i18n import LANGUAGES
from bot.core.knowledge import Topic
from bot.core.language import LanguageGuess
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
# Short everyday words that tell Ukrainian (surzhyk included) from Russian when no letter
# of either's own alphabet appears: "шо там з песелем" is Ukrainian, "что там с песелем" not.
_FUNCTION_WORDS: Final = {
    "uk": frozenset(
        "шо що шоб щоб тре треба нема немає є ще з зі із та й це цей ця ці ось оце де як чи "
        "вже буде мені мене тобі тебе його її їх дуже теж також коли скільки чому бо якщо "
        "куди можна хочу ми ви вони".split()
    ),
    "ru": frozenset(
        "что чтобы надо нет есть ещё еще с со это этот эта эти вот где как ли уже будет мне "
        "меня тебе тебя его её ее их очень тоже также когда сколько почему потому если куда "
        "можно хочу мы вы они".split()
    ),
}
_FUNCTION_WORD_BONUS: Final = 3.0
_NON_LETTERS: Final = re.compile(r"[^\w']+|\d+|_")
MAX_N: Final = 4
BORROWED_MIN_LENGTH: Final = 3
CLEAR_CONFIDENCE: Final = 0.6
BORROWED_ONLY_FACTOR: Final = 0.5
"""Confidence kept when a message has only borrowed words."""
CLEAR_MIN_WORDS: Final = 2
"""A one-word message ("дякую", "ok") never switches an established reply language."""


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


def _folded_words(text: str) -> set[str]:
    return {fold_latin(word) for word in _NON_LETTERS.sub(" ", text.lower()).split()}


def borrowed_terms(topics: Sequence[Topic]) -> frozenset[str]:
    """Polish office words that people use inside every language ("pesel", "pobytu", "urząd").

    A word counts as borrowed when another language's keywords use it and Polish texts have
    it too; such a word says nothing about the writer's own language. Polish grammar words
    ("dla", "na", "w") are kept out: they are short, or they occur in the Polish questions of
    many topics, while an office term belongs to a few.
    """
    foreign_keywords: set[str] = set()
    polish_frequency: Counter[str] = Counter()
    for topic in topics:
        polish_words: set[str] = set()
        for language, entry in topic.texts.items():
            if language == "pl":
                for text in (entry.title, *entry.questions, *entry.keywords):
                    polish_words |= _folded_words(text)
            else:
                for keyword in entry.keywords:
                    foreign_keywords |= {word for word in _folded_words(keyword) if word.isascii()}
        polish_frequency.update(polish_words)
    common = max(2, len(topics) // 4)
    return frozenset(
        word
        for word in foreign_keywords
        if len(word) >= BORROWED_MIN_LENGTH and 0 < polish_frequency[word] < common
    )


class NaiveBayesLanguageIdentifier:
    """Multinomial naive Bayes over character 1-4-grams and whole words."""

    def __init__(
        self, samples: Iterable[tuple[str, str]], borrowed: frozenset[str] = frozenset()
    ) -> None:
        counts: dict[str, Counter[str]] = {language: Counter() for language in LANGUAGES}
        for text, language in samples:
            for variant in (text, *typing_variants(text, language)):
                counts[language].update(_features(variant))
        vocabulary = sorted(set().union(*counts.values()))
        self._borrowed = borrowed
        self._known_words = {
            language: {gram for gram in counter if gram.startswith("<")}
            for language, counter in counts.items()
        }
        # One row of log-probabilities per n-gram, a column per language, and a last row for
        # n-grams never seen: a message is scored by one gather and one sum.
        self._row = {gram: row for row, gram in enumerate(vocabulary)}
        totals = np.array([sum(counts[language].values()) for language in LANGUAGES])
        totals = totals + len(vocabulary) + 1
        table = np.ones((len(vocabulary) + 1, len(LANGUAGES)))
        for column, language in enumerate(LANGUAGES):
            for gram, count in counts[language].items():
                table[self._row[gram], column] += count
        self._log_p = np.log(table / totals)

    def identify(self, text: str) -> LanguageGuess | None:
        """The language of ``text``; None when it has no letters at all."""
        all_words = _NON_LETTERS.sub(" ", text.lower()).split()
        own = [word for word in all_words if fold_latin(word) not in self._borrowed]
        # "karta pobytu" alone: judge by the borrowed words, but never call it clear.
        judged = own or all_words
        features = _features(" ".join(judged))
        if not features:
            return None
        joined = "".join(judged)
        letters = set(joined)
        cyrillic = sum(1 for char in joined if "\u0400" <= char <= "\u04ff")
        latin = sum(1 for char in joined if char.isascii() and char.isalpha())
        # Cyrillic is Ukrainian or Russian here; Latin may be any of the four (transliteration).
        candidates = ("uk", "ru") if cyrillic > latin else LANGUAGES
        scale = len(features) ** 0.5
        unseen = len(self._row)
        rows = [self._row.get(gram, unseen) for gram in features]
        averages = self._log_p[rows].sum(axis=0) / len(features)
        scores = {}
        for column, language in enumerate(LANGUAGES):
            if language not in candidates:
                continue
            score = float(averages[column])
            if letters & _DISTINCT_LETTERS.get(language, frozenset()):
                score += _LETTER_BONUS / scale
            markers = _FUNCTION_WORDS.get(language, frozenset())
            score += _FUNCTION_WORD_BONUS * sum(word in markers for word in judged) / scale
            scores[language] = score
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        best, runner_up = ranked[0], ranked[1]
        confidence = min(1.0, (best[1] - runner_up[1]) / 0.5)
        if not own:
            # Only words every language borrows ("PESEL", "karta pobytu"): weak evidence of
            # the writer's own language, whatever the n-grams say.
            confidence *= BORROWED_ONLY_FACTOR
        # Keyboard mashing has n-grams of every language; a clear message has known words.
        known = sum(f"<{word}>" in self._known_words[best[0]] for word in own)
        clear = confidence >= CLEAR_CONFIDENCE and len(own) >= CLEAR_MIN_WORDS and known >= 1
        return LanguageGuess(best[0], confidence, clear)

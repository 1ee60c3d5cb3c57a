"""One spelling for every way people write a word: Cyrillic or Latin, with or without
diacritics, Polish or transliterated ("песель", "pesel"; "карта побиту", "karta pobytu").

The skeleton is lossy on purpose: it keeps what tells words apart and drops what people get
wrong or write differently (i/y/и/і, sz/sh/ш, w/v, doubled letters).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from bot.core.text import fold_latin

_CYRILLIC_TO_LATIN: Final = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie",
        "ё": "io", "ж": "zh", "з": "z", "и": "i", "і": "i", "ї": "i", "й": "i", "к": "k",
        "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
        "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sh", "ъ": "",
        "ы": "i", "ь": "", "э": "e", "ю": "iu", "я": "ia", "'": "", "’": "", "ʼ": "",
    }
)  # fmt: skip

# Applied in order to Latin text: digraphs first, then single letters.
_RULES: Final = (
    ("shch", "s"), ("sch", "s"), ("sz", "s"), ("sh", "s"), ("zh", "z"), ("rz", "z"),
    ("cz", "c"), ("ch", "c"), ("kh", "h"), ("tz", "c"), ("ts", "c"), ("x", "ks"),
    ("w", "v"), ("g", "h"), ("y", "i"), ("j", "i"), ("q", "k"),
)  # fmt: skip
_REPEATS: Final = re.compile(r"([a-z])\1+")
_TOKEN: Final = re.compile(r"[a-z0-9+]+")
_VOWELS: Final = "aeiou"
STEM_LENGTH: Final = 6


@lru_cache(maxsize=65536)
def skeleton_word(word: str) -> str:
    """The skeleton of one lower-case word."""
    latin = fold_latin(word).translate(_CYRILLIC_TO_LATIN)
    for old, new in _RULES:
        latin = latin.replace(old, new)
    return _REPEATS.sub(r"\1", latin)


def stem(token: str) -> str:
    """Truncate and drop the inflected ending: "pobytu", "pobyt", "побиту" -> "pobit"."""
    if token.isdigit() or len(token) <= 3:
        return token
    cut = token[:STEM_LENGTH]
    while len(cut) > 3 and cut[-1] in _VOWELS:
        cut = cut[:-1]
    return cut


def stems(text: str) -> list[str]:
    """The stems of ``text``, in order, skeletons of every word."""
    out: list[str] = []
    for word in re.split(r"[^\w+'’ʼ]+", text.lower()):
        if not word:
            continue
        for token in _TOKEN.findall(skeleton_word(word)):
            out.append(stem(token))
    return out

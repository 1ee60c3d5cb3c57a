"""Text normalisation shared by language detection, small talk and search."""

from __future__ import annotations

import functools
import re
import unicodedata

_WORD = re.compile(r"[^\W\d_]+(?:['’ʼ][^\W\d_]+)*", re.UNICODE)
# Letters NFKD does not decompose, but people drop when they type without diacritics.
_LATIN_EXTRA = str.maketrans({"ł": "l", "Ł": "l", "ß": "ss"})


def fold_latin(text: str) -> str:
    """Lower-case and strip Latin diacritics ("Zażółć" -> "zazolc"); Cyrillic is kept.

    Cyrillic й, ї and ё must survive: they tell Ukrainian from Russian, so only marks on
    Latin letters are removed.
    """
    lowered = text.translate(_LATIN_EXTRA).lower()
    if lowered.isascii():
        return lowered
    return "".join(map(_fold_char, lowered))


@functools.lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    # Every message is folded several times (language, small talk, search, buttons), and
    # decomposing each character anew was a tenth of the dialogue's own CPU.
    decomposed = unicodedata.normalize("NFKD", char)
    return decomposed[0] if "a" <= decomposed[:1] <= "z" else char


def words(text: str) -> list[str]:
    """The words of ``text``, folded, without punctuation, digits or emoji."""
    return [word.replace("’", "'").replace("ʼ", "'") for word in _WORD.findall(fold_latin(text))]

"""Text normalisation shared by language detection, small talk and search."""

from __future__ import annotations

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
    out: list[str] = []
    for char in text.translate(_LATIN_EXTRA).lower():
        if "a" <= unicodedata.normalize("NFKD", char)[:1] <= "z":
            out.append(unicodedata.normalize("NFKD", char)[0])
        else:
            out.append(char)
    return "".join(out)


def words(text: str) -> list[str]:
    """The words of ``text``, folded, without punctuation, digits or emoji."""
    return [word.replace("’", "'").replace("ʼ", "'") for word in _WORD.findall(fold_latin(text))]

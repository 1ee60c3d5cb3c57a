"""The typo index finds exactly what a scan of the whole vocabulary would."""

from __future__ import annotations

import random
import string

from rapidfuzz import fuzz, process

from bot.knowledge.search import MIN_TYPO_LENGTH, TYPO_CUTOFF
from bot.knowledge.service import load_knowledge
from bot.knowledge.typos import TypoIndex, deletions
from tests.conftest import ROOT

ALPHABET = string.ascii_lowercase


def misspell(stem: str, rng: random.Random) -> str:
    """One or two of the slips people make: a letter dropped, added, swapped or replaced."""
    for _ in range(rng.randint(1, 2)):
        i = rng.randrange(len(stem))
        match rng.choice(("drop", "add", "swap", "replace")):
            case "drop" if len(stem) > 1:
                stem = stem[:i] + stem[i + 1 :]
            case "add":
                stem = stem[:i] + rng.choice(ALPHABET) + stem[i:]
            case "swap" if i + 1 < len(stem):
                stem = stem[:i] + stem[i + 1] + stem[i] + stem[i + 2 :]
            case _:
                stem = stem[:i] + rng.choice(ALPHABET) + stem[i + 1 :]
    return stem


def test_deletions_of_up_to_two_letters() -> None:
    assert deletions("abc", 2) == {"abc", "bc", "ac", "ab", "a", "b", "c"}
    assert deletions("ab", 0) == {"ab"}


def test_the_index_agrees_with_a_full_scan_on_two_thousand_misspellings() -> None:
    index = load_knowledge(ROOT / "knowledge").base._index
    vocabulary = sorted(stem for stem in index.idf if len(stem) >= MIN_TYPO_LENGTH)
    typos = TypoIndex(vocabulary, TYPO_CUTOFF)
    rng = random.Random(20261121)  # noqa: S311 - reproducible typos, not secrets
    found = 0
    for _ in range(2000):
        typo = misspell(rng.choice(vocabulary), rng)
        scanned = process.extractOne(typo, vocabulary, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
        expected = None if scanned is None else scanned[0]
        assert typos.nearest(typo) == expected, typo
        found += expected is not None
    assert found > 1000  # most slips are still recognised: the comparison is not vacuous

"""The vocabulary stem a misspelt stem was meant to be, found without scanning the vocabulary.

rapidfuzz's ratio is 100·(1 − indel/(len₁+len₂)), where indel counts the insertions and
deletions that turn one string into the other. At a cutoff of 80 and stems of at most six
letters, two stems that match differ by at most two indels, so each reaches their longest
common subsequence by deleting at most two letters. Indexing every stem under all its
deletions of up to two letters (the SymSpell idea) gives, for a misspelt stem, the few
candidates worth scoring; the answer is the same as scanning the whole vocabulary.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from itertools import combinations
from typing import Final

from rapidfuzz import fuzz, process

INDEX_DEPTH: Final = 2
"""Letters deleted when indexing; enough for stems of up to seven letters at cutoff 80."""


def deletions(stem: str, depth: int) -> set[str]:
    """``stem`` and every string made from it by deleting up to ``depth`` letters."""
    found = {stem}
    for count in range(1, min(depth, len(stem)) + 1):
        for positions in combinations(range(len(stem)), count):
            found.add("".join(char for i, char in enumerate(stem) if i not in positions))
    return found


class TypoIndex:
    """Finds the closest vocabulary stem to a stem not in the vocabulary."""

    def __init__(self, vocabulary: Sequence[str], cutoff: float) -> None:
        self._vocabulary = sorted(vocabulary)
        self._order = {stem: position for position, stem in enumerate(self._vocabulary)}
        self._cutoff = cutoff
        self._longest = max((len(stem) for stem in self._vocabulary), default=0)
        self._by_deletion: dict[str, list[str]] = defaultdict(list)
        for stem in self._vocabulary:
            for variant in deletions(stem, INDEX_DEPTH):
                self._by_deletion[variant].append(stem)

    def nearest(self, stem: str) -> str | None:
        """The vocabulary stem with the best ratio of at least the cutoff; on a tie, the
        first in sorted order, as a scan of the sorted vocabulary would give."""
        most_indels = math.floor((100 - self._cutoff) / 100 * (len(stem) + self._longest))
        if most_indels > INDEX_DEPTH:
            candidates = self._vocabulary  # longer than the index was built for: scan all
        else:
            found = {
                candidate
                for variant in deletions(stem, most_indels)
                for candidate in self._by_deletion.get(variant, ())
            }
            candidates = sorted(found, key=self._order.__getitem__)
        match = process.extractOne(stem, candidates, scorer=fuzz.ratio, score_cutoff=self._cutoff)
        return None if match is None else match[0]

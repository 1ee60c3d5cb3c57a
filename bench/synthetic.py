"""A knowledge base scaled up with synthetic topics, to see how retrieval cost grows."""

from __future__ import annotations

import random
import string
from dataclasses import replace

from bot.core.knowledge import LocalizedEntry, Topic


def _pseudo_word(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=rng.randint(5, 9)))


def scale(topics: list[Topic], total: int, seed: int = 1) -> list[Topic]:
    """``topics`` plus synthetic ones up to ``total``: each a real topic's texts with two
    invented words in every question and keyword, so the vocabulary grows as a real
    knowledge base's would, and each synthetic topic competes with its original."""
    rng = random.Random(seed)  # noqa: S311 - invented words, not secrets
    scaled = list(topics)
    for number in range(total - len(topics)):
        base = topics[number % len(topics)]
        invented = [_pseudo_word(rng) for _ in range(6)]

        def mutate(text: str, words: list[str] = invented) -> str:
            return f"{text} {rng.choice(words)} {rng.choice(words)}"

        texts = {
            language: LocalizedEntry(
                title=mutate(entry.title),
                answer=entry.answer,
                questions=tuple(mutate(question) for question in entry.questions),
                keywords=tuple(mutate(keyword) for keyword in entry.keywords),
            )
            for language, entry in base.texts.items()
        }
        scaled.append(replace(base, id=f"synthetic.{number:04d}", texts=texts))
    return scaled

"""Which language to answer in: what the engine needs to know about a message's language.

The identifier itself (a model trained on the knowledge base) lives outside the core; the
engine sees only this port and the policy in ``reply_language``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

from bot.core.i18n import LANGUAGES

FIRST_CONTACT_CONFIDENCE: Final = 0.3
"""How sure the identifier must be to answer a newcomer in their message's language."""


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """The most likely language of a message and how much it can be relied on."""

    language: str
    confidence: float
    """From 0 (a coin toss with the runner-up) to 1."""
    clear: bool
    """Sure enough to switch a person's reply language: enough words of the language's own
    (not just Polish office terms, which everyone uses) and a wide margin."""


class LanguageIdentifier(Protocol):
    """Names the language a text is written in."""

    def identify(self, text: str) -> LanguageGuess | None:
        """The best guess, or None for a text with no letters."""
        ...


def normalise_hint(hint: str | None) -> str | None:
    """Map a platform language code ("uk", "pl-PL", "ru_RU") to a supported language."""
    if not hint:
        return None
    code = hint.replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else None

"""Reading knowledge/_danger.yaml and knowledge/_ask_for_person.yaml into Signals."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from bot.core.i18n import LANGUAGES
from bot.core.signals import DangerCategory, Phrase, Signals, phrase
from bot.knowledge.loader import parse_yaml

DANGER_FILE: Final = "_danger.yaml"
ASK_FOR_PERSON_FILE: Final = "_ask_for_person.yaml"


class SignalsError(ValueError):
    """A signals file that cannot be used: the reload keeps the previous knowledge."""


def load_signals(directory: Path) -> Signals:
    """Both files; an absent file means no such phrases (a knowledge base under test)."""
    danger = _read(directory / DANGER_FILE)
    ask = _read(directory / ASK_FOR_PERSON_FILE)
    categories = []
    for category_id, body in (danger.get("categories") or {}).items():
        replies = {language: str(text).strip() for language, text in body["reply"].items()}
        missing = [language for language in LANGUAGES if not replies.get(language)]
        if missing:
            raise SignalsError(f"{DANGER_FILE}: {category_id} has no reply in {missing}")
        categories.append(
            DangerCategory(str(category_id), replies, _phrases(body.get("phrases") or {}))
        )
    return Signals(tuple(categories), _phrases(ask.get("phrases") or {}))


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data = parse_yaml(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise SignalsError(f"{path.name} must be a mapping")
    return data


def _phrases(by_language: dict[str, Any]) -> tuple[Phrase, ...]:
    found = (phrase(str(text)) for texts in by_language.values() for text in texts or ())
    return tuple(dict.fromkeys(words for words in found if words))

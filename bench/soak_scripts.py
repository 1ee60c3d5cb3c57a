"""What the soak's people say, and how many messages each step must bring back.

The counts come from the dialogue engine itself, run in-process on a fresh SQLite database:
a step is "answered" in the soak when the person received exactly that many messages.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import cycle, islice
from pathlib import Path
from typing import Final

from bot.adapters.telegram.rendering import render_html
from bot.adapters.telegram.splitting import split_html
from bot.app import build_core
from bot.core.messages import Channel, Inbound
from bot.settings import Settings

LANGUAGES: Final = ("uk", "ru", "pl", "en")
STAFF_MESSAGES: Final = 2
"""After a hand-off: the staff member's answer, then the "did we help?" question at closing."""


@dataclass(frozen=True, slots=True)
class Step:
    """One thing a person does: write ``text`` or press the option ``choice``."""

    text: str | None = None
    choice: str | None = None


_QUESTIONS: Final = {
    "uk": ["Як отримати PESEL?", "Як відкрити рахунок у банку?", "де знайти лікаря", "Дякую!"],
    "ru": ["Как получить PESEL?", "как открыть счет в банке", "где найти врача", "Спасибо!"],
    "pl": ["Jak dostać PESEL?", "Jak otworzyć konto w banku?", "gdzie znaleźć lekarza", "Dzięki"],
    "en": ["How do I get a PESEL?", "how to open a bank account", "where to find a doctor", "hi"],
}
_MENUS: Final = [Step(choice="menu"), Step(choice="cat:stay"), Step(choice="topic:docs.pesel")]
_CASES: Final = {
    "uk": "Хочу поговорити з людиною: роботодавець не платить мені зарплату два місяці",
    "ru": "Хочу поговорить с человеком: работодатель не платит мне зарплату два месяца",
    "pl": "Chcę porozmawiać z człowiekiem: pracodawca nie płaci mi pensji od dwóch miesięcy",
    "en": "I want to talk to a person: my employer has not paid my salary for two months",
}


def script_for(language: str, steps: int, *, handoff: bool) -> list[Step]:
    """The language picker, then questions and menus in turn; a hand-off last, if asked."""
    opener = [Step(text="/start"), Step(choice=f"lang:{language}")]
    body_length = steps - len(opener) - (1 if handoff else 0)
    mixed = [
        step
        for pair in zip(
            (Step(text=question) for question in _QUESTIONS[language]), cycle(_MENUS), strict=False
        )
        for step in pair
    ]
    body = list(islice(cycle(mixed), max(0, body_length)))
    return [*opener, *body, *([Step(text=_CASES[language])] if handoff else [])]


_expected: dict[tuple[str, int, bool], list[int]] = {}


def expected_counts(language: str, steps: int, *, handoff: bool) -> list[int]:
    """Messages each step brings back (``prepare`` must have run for these ``steps``)."""
    return _expected[language, steps, handoff]


async def prepare(steps: int, knowledge_dir: Path | None = None) -> None:
    """Run every script once through the engine to learn its counts."""
    for language in LANGUAGES:
        for handoff in (False, True):
            script = script_for(language, steps, handoff=handoff)
            counts = await _counts(script, language, knowledge_dir)
            if handoff:
                counts[-1] += STAFF_MESSAGES
            _expected[language, steps, handoff] = counts


async def _counts(script: list[Step], language: str, knowledge_dir: Path | None) -> list[int]:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            database={"url": f"sqlite:///{folder}/reference.db"},  # type: ignore[arg-type]
            var_dir=Path(folder),
            knowledge_dir=knowledge_dir,
            pseudonym_key="33" * 32,  # type: ignore[arg-type]
            office_hours="mon-sun 00:00-23:59",
            flood_messages_per_minute=100_000,
            _env_file=None,  # type: ignore[call-arg]
        )
        core = await build_core(settings)
        try:
            counts = []
            start = datetime.now(UTC)
            for number, step in enumerate(script):
                inbound = Inbound(
                    Channel.TELEGRAM,
                    "1",
                    f"reference-{number}",
                    start + timedelta(seconds=number),
                    text=step.text,
                    choice=step.choice,
                    language_hint=language,
                    address="1",
                )
                replies = await core.engine.handle(inbound)
                counts.append(sum(len(split_html(render_html(reply))) for reply in replies))
            return counts
        finally:
            await core.database.dispose()

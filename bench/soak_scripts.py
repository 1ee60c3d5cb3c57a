"""What the soak's people say, and how many messages each step must bring back.

The counts come from the dialogue engine itself, run in-process on a fresh SQLite database:
a step is "answered" in the soak when the person received exactly that many messages. On
Telegram a long reply may be split in several messages and options are buttons; on Matrix
each reply is one notice and an option is chosen by typing its number, so the same script is
prepared for each network.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import cycle, islice
from pathlib import Path
from typing import Final

from bot.adapters.matrix.rendering import BangCommands
from bot.adapters.telegram.rendering import render_html
from bot.adapters.telegram.splitting import split_html
from bot.app import build_core
from bot.core.messages import Channel, Inbound, Reply
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
_WALK: Final = [
    Step(choice="menu"),
    Step(choice="cat:stay"),
    Step(choice="topic:stay.residence-card"),
]
"""The menus on Matrix, where an option can only be typed while it is listed."""
_CASES: Final = {
    "uk": "Хочу поговорити з людиною: роботодавець не платить мені зарплату два місяці",
    "ru": "Хочу поговорить с человеком: работодатель не платит мне зарплату два месяца",
    "pl": "Chcę porozmawiać z człowiekiem: pracodawca nie płaci mi pensji od dwóch miesięcy",
    "en": "I want to talk to a person: my employer has not paid my salary for two months",
}


def script_for(
    language: str, steps: int, *, handoff: bool, channel: Channel = Channel.TELEGRAM
) -> list[Step]:
    """The language picker, then questions and menus in turn; a hand-off last, if asked.

    On Telegram a question is followed by one button of the menus, pressed wherever it was
    shown; on Matrix by the whole walk through the menus, as an option can only be typed
    while it is listed.
    """
    opener = [Step(text="/start"), Step(choice=f"lang:{language}")]
    body_length = steps - len(opener) - (1 if handoff else 0)
    questions = [Step(text=question) for question in _QUESTIONS[language]]
    mixed = (
        [step for pair in zip(questions, cycle(_MENUS), strict=False) for step in pair]
        if channel == Channel.TELEGRAM
        else [step for question in questions for step in (question, *_WALK)]
    )
    body = list(islice(cycle(mixed), max(0, body_length)))
    return [*opener, *body, *([Step(text=_CASES[language])] if handoff else [])]


_Key = tuple[Channel, str, int, bool]
_expected: dict[_Key, list[int]] = {}
_typed: dict[_Key, list[Step]] = {}


def expected_counts(
    language: str, steps: int, *, handoff: bool, channel: Channel = Channel.TELEGRAM
) -> list[int]:
    """Messages each step brings back (``prepare`` must have run for these ``steps``)."""
    return _expected[channel, language, steps, handoff]


def typed_script(language: str, steps: int, *, handoff: bool) -> list[Step]:
    """The script as a Matrix user types it: "!start", and an option's number for a choice
    (``prepare`` must have run for these ``steps`` on Matrix)."""
    return _typed[Channel.MATRIX, language, steps, handoff]


async def prepare(
    steps: int, knowledge_dir: Path | None = None, channel: Channel = Channel.TELEGRAM
) -> None:
    """Run every script once through the engine to learn its counts."""
    for language in LANGUAGES:
        for handoff in (False, True):
            script = script_for(language, steps, handoff=handoff, channel=channel)
            key = (channel, language, steps, handoff)
            counts, _typed[key] = await _counts(script, language, knowledge_dir, channel)
            if handoff:
                counts[-1] += STAFF_MESSAGES
            _expected[key] = counts


_BANG: Final = BangCommands(["start", "menu", "human", "language", "privacy", "forget", "help"])


def _as_typed(step: Step, offered: tuple[str, ...]) -> Step:
    """What a Matrix user types for ``step``, given the options the bot last listed."""
    if step.choice is None:
        return Step(text=_BANG.shown(Reply(step.text or "", "en")).text)
    if step.choice == "menu" and step.choice not in offered:
        return Step(text="!menu")  # the same as the option, when a reply did not list it
    if step.choice not in offered:
        raise ValueError(f"{step.choice!r} is not among the options listed: {offered}")
    return Step(text=str(offered.index(step.choice) + 1))


async def _counts(
    script: list[Step], language: str, knowledge_dir: Path | None, channel: Channel
) -> tuple[list[int], list[Step]]:
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
            counts, typed = [], []
            offered: tuple[str, ...] = ()
            start = datetime.now(UTC)
            for number, step in enumerate(script):
                said = step if channel == Channel.TELEGRAM else _as_typed(step, offered)
                typed.append(said)
                inbound = Inbound(
                    channel,
                    "1",
                    f"reference-{number}",
                    start + timedelta(seconds=number),
                    text=None if said.text is None else _BANG.typed(said.text),
                    choice=said.choice,
                    language_hint=language if channel == Channel.TELEGRAM else None,
                    address="1",
                )
                replies = await core.engine.handle(inbound)
                if channel == Channel.TELEGRAM:
                    counts.append(sum(len(split_html(render_html(reply))) for reply in replies))
                else:
                    counts.append(len(replies))
                listed = next((reply.options for reply in reversed(replies) if reply.options), ())
                offered = tuple(option.id for option in listed)
            return counts, typed
        finally:
            await core.database.dispose()

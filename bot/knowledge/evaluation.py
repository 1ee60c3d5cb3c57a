"""Measuring retrieval and language identification on a labelled question set."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.knowledge import Resolution


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled question: the topic it is about (None: out of scope) and its language."""

    text: str
    topic: str | None
    language: str
    style: str


def read_examples(path: Path) -> list[Example]:
    """Read a JSON Lines file of {"text", "topic", "lang", "style"}."""
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            examples.append(Example(row["text"], row["topic"], row["lang"], row["style"]))
    return examples


@dataclass
class _Tally:
    total: int = 0
    right: int = 0

    def add(self, ok: bool) -> None:
        self.total += 1
        self.right += ok

    @property
    def share(self) -> float:
        return self.right / self.total if self.total else 0.0


@dataclass
class Report:
    """The figures the dev-set test checks and the benchmark prints."""

    top1: _Tally = field(default_factory=_Tally)
    wrong: _Tally = field(default_factory=_Tally)
    abstention: _Tally = field(default_factory=_Tally)
    language: _Tally = field(default_factory=_Tally)
    clarified: _Tally = field(default_factory=_Tally)
    by_language: dict[str, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    by_style: dict[str, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    failures: list[str] = field(default_factory=list)

    def table(self) -> str:
        """The report as a plain-text table."""
        rows = [
            ("top-1 accuracy (in scope)", self.top1),
            ("wrong answers (in scope)", self.wrong),
            ("clarified: right topic among 'did you mean'", self.clarified),
            ("out-of-scope abstention", self.abstention),
            ("language accuracy", self.language),
        ]
        rows += [(f"top-1, {name}", tally) for name, tally in sorted(self.by_language.items())]
        rows += [(f"top-1, style {name}", tally) for name, tally in sorted(self.by_style.items())]
        return "\n".join(
            f"{label:<46} {100 * tally.share:6.1f} %  ({tally.right}/{tally.total})"
            for label, tally in rows
        )


def evaluate(
    examples: Iterable[Example], answer: Callable[[str], tuple[Resolution, str]]
) -> Report:
    """Run every example once through retrieval and language identification."""
    report = Report()
    for example in examples:
        resolution, language = answer(example.text)
        report.language.add(language == example.language)
        answered = resolution.topic_id
        if example.topic is None:
            report.abstention.add(answered is None)
            if answered is not None:
                report.failures.append(f"answered {answered}: {example.text}")
            continue
        correct = answered == example.topic
        report.top1.add(correct)
        report.wrong.add(answered is not None and not correct)
        report.by_language[example.language].add(correct)
        report.by_style[example.style].add(correct)
        offered = {match.topic_id for match in resolution.candidates}
        if answered is None and resolution.candidates:
            report.clarified.add(example.topic in offered)
        if not correct:
            got = answered or f"({resolution.decision.value}: {sorted(offered)})"
            report.failures.append(f"{example.topic} -> {got}: {example.text}")
    return report

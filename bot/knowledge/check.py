"""`python -m bot kb check` and `kb stats`: what is wrong with the content, and how much."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Final

from bot.core.i18n import LANGUAGES
from bot.core.knowledge import Topic
from bot.knowledge.loader import LoadResult, Problem, load_directory, parse_yaml

CATALOGUE_FILE: Final = "_catalogue.yaml"
STALE_AFTER: Final = timedelta(days=365)
PROCEDURES_TARGET: Final = 50
"""The Open Krakow indicator: procedures available in foreign languages."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Errors make the check fail; warnings (stale facts) are shown but do not."""

    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...]


def catalogue_ids(directory: Path) -> list[str]:
    path = directory / CATALOGUE_FILE
    if not path.is_file():
        return []
    data = parse_yaml(path.read_text(encoding="utf-8")) or {}
    return [str(topic_id) for topic_id in data.get("ids") or ()]


def check(directory: Path, today: date) -> CheckResult:
    """Validate every file, the catalogue's coverage, and the age of every check date."""
    result = load_directory(directory)
    errors = list(result.problems)
    present = {topic.id for topic in result.topics}
    broken = {problem.file.removesuffix(".yaml") for problem in result.problems}
    catalogue = catalogue_ids(directory)
    errors += [
        Problem(CATALOGUE_FILE, "ids", f"catalogue topic {topic_id!r} has no file")
        for topic_id in catalogue
        if topic_id not in present and topic_id not in broken
    ]
    missing = [
        Problem(f"{topic.id}.yaml", language, "missing: the bot answers in another language")
        for topic in result.topics
        for language in LANGUAGES
        if language not in topic.texts
    ]
    errors += [problem for problem in missing if problem.file.removesuffix(".yaml") in catalogue]
    warnings = [
        problem for problem in missing if problem.file.removesuffix(".yaml") not in catalogue
    ]
    warnings += [
        Problem(f"{topic.id}.yaml", "checked", f"{topic.checked} is over 12 months old: recheck")
        for topic in result.topics
        if today - topic.checked > STALE_AFTER
    ]
    return CheckResult(tuple(errors), tuple(warnings))


def entries_per_language(topics: Iterable[Topic]) -> dict[str, int]:
    """Knowledge entries available in each language (the procedures indicator)."""
    listed = list(topics)
    return {language: sum(language in topic.texts for topic in listed) for language in LANGUAGES}


def stats_lines(result: LoadResult) -> list[str]:
    """Entries available in each language, against the programme's target of 50."""
    lines = [f"topics: {len(result.topics)}"]
    for language, count in entries_per_language(result.topics).items():
        foreign = "" if language == "pl" else f" (target {PROCEDURES_TARGET}: "
        status = "" if language == "pl" else ("met)" if count >= PROCEDURES_TARGET else "not met)")
        lines.append(f"{language}: {count} entries{foreign}{status}")
    return lines

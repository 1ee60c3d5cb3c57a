"""Reading knowledge/*.yaml into Topics; every problem is reported with its file and field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from bot.core.i18n import LANGUAGES
from bot.core.knowledge import CATEGORIES, Handoff, LocalizedEntry, Source, Topic

SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it (its wheels are): 10 times faster."""


def parse_yaml(text: str) -> Any:
    """Parse YAML with a safe loader: plain data only, never Python objects."""
    return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - SAFE_LOADER is a safe loader


MAX_ANSWER_CHARS = 1200


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one field of one knowledge file."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"


@dataclass(frozen=True, slots=True)
class LoadResult:
    """The topics that loaded, and the problems of those that did not."""

    topics: tuple[Topic, ...]
    problems: tuple[Problem, ...] = field(default=())


class _InvalidFieldError(Exception):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def load_directory(directory: Path) -> LoadResult:
    """Load every ``*.yaml`` in ``directory``; a bad file is reported, never raised."""
    topics: list[Topic] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("*.yaml")):
        if path.name.startswith("_"):
            continue  # not a topic: _out_of_scope.yaml and the like
        try:
            document = parse_yaml(path.read_text(encoding="utf-8"))
            topic = _parse(document, expected_id=path.stem)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else "file"
            problems.append(Problem(path.name, where, f"not valid YAML: {error}".splitlines()[0]))
            continue
        except UnicodeDecodeError:
            problems.append(Problem(path.name, "file", "not UTF-8 text"))
            continue
        except _InvalidFieldError as invalid:
            problems.append(Problem(path.name, invalid.field, invalid.message))
            continue
        if topic.id in seen:
            problems.append(Problem(path.name, "id", f"duplicate id {topic.id!r}"))
            continue
        seen.add(topic.id)
        topics.append(topic)
    return LoadResult(tuple(topics), tuple(problems))


def _parse(document: object, *, expected_id: str) -> Topic:
    data = _mapping(document, "file")
    topic_id = _text(data, "id")
    if topic_id != expected_id:
        raise _InvalidFieldError("id", f"{topic_id!r} does not match the file name {expected_id!r}")
    category = _text(data, "category")
    if category not in CATEGORIES:
        raise _InvalidFieldError("category", f"{category!r} is not one of {', '.join(CATEGORIES)}")
    try:
        handoff = Handoff(_text(data, "handoff"))
    except ValueError:
        raise _InvalidFieldError("handoff", "must be never, offer or always") from None
    checked = data.get("checked")
    if not isinstance(checked, date):
        raise _InvalidFieldError("checked", "must be a date, YYYY-MM-DD")
    # A new topic may start in fewer languages (the bot then says which one it answers in);
    # kb check insists on all four for the catalogue's topics.
    texts = {language: _entry(data, language) for language in LANGUAGES if language in data}
    if not texts:
        raise _InvalidFieldError("file", f"no language block: needs {', '.join(LANGUAGES)}")
    return Topic(
        id=topic_id,
        category=category,
        handoff=handoff,
        checked=checked,
        sources=_sources(data.get("sources")),
        texts=texts,
    )


def _sources(value: object) -> tuple[Source, ...]:
    if not isinstance(value, list) or not value:
        raise _InvalidFieldError("sources", "must be a non-empty list of {title, url}")
    sources = []
    for index, item in enumerate(value):
        source = _mapping(item, f"sources[{index}]")
        url = _text(source, "url", prefix=f"sources[{index}].")
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or " " in url:
            raise _InvalidFieldError(
                f"sources[{index}].url", f"not a well-formed http(s) URL: {url!r}"
            )
        sources.append(Source(_text(source, "title", prefix=f"sources[{index}]."), url))
    return tuple(sources)


def _entry(data: Mapping[str, Any], language: str) -> LocalizedEntry:
    block = _mapping(data.get(language), language)
    answer = _text(block, "answer", prefix=f"{language}.")
    if len(answer) > MAX_ANSWER_CHARS:
        raise _InvalidFieldError(
            f"{language}.answer", f"{len(answer)} characters, at most {MAX_ANSWER_CHARS}"
        )
    return LocalizedEntry(
        title=_text(block, "title", prefix=f"{language}."),
        answer=answer,
        questions=_strings(block, "questions", prefix=f"{language}."),
        keywords=_strings(block, "keywords", prefix=f"{language}."),
    )


def _mapping(value: object, field_name: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _InvalidFieldError(field_name, "missing, or not a mapping")
    return value


def _text(data: Mapping[str, Any], key: str, *, prefix: str = "") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _InvalidFieldError(prefix + key, "missing or empty")
    return value.strip()


def _strings(data: Mapping[str, Any], key: str, *, prefix: str) -> tuple[str, ...]:
    value = data.get(key)
    if not isinstance(value, list) or not value:
        raise _InvalidFieldError(prefix + key, "must be a non-empty list")
    if not all(isinstance(item, str) and item.strip() for item in value):
        raise _InvalidFieldError(prefix + key, "every item must be non-empty text")
    return tuple(item.strip() for item in value)

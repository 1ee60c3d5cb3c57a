"""`kb check` and `kb stats` as an editor of the content uses them."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from bot.knowledge.check import catalogue_ids, check
from tests.conftest import ROOT
from tests.test_cli import run_bot

SHARED_TOPICS = ROOT.parent / "shared" / "topics.md"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A copy of the real knowledge base to break."""
    copy = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", copy)
    return copy


def kb(content: Path, command: str) -> tuple[int, list[str]]:
    result = run_bot(
        "kb", command, env={"INFOPOINT_KNOWLEDGE_DIR": str(content)}, cwd=content.parent
    )
    assert "Traceback" not in result.stderr
    return result.returncode, result.stdout.splitlines()


def test_the_shipped_knowledge_base_passes(content: Path) -> None:
    assert kb(content, "check") == (0, ["0 errors, 0 warnings"])


def test_malformed_yaml_is_one_line_with_file_and_place(content: Path) -> None:
    (content / "docs.pesel.yaml").write_text("id: docs.pesel\npl: [unclosed\n")
    code, lines = kb(content, "check")
    assert code == 1
    assert lines[0].startswith("error: docs.pesel.yaml: line 3: not valid YAML")
    assert lines[-1] == "1 errors, 0 warnings"


def test_each_problem_names_file_and_field(content: Path) -> None:
    pesel = content / "docs.pesel.yaml"
    pesel.write_text(pesel.read_text().replace("https://", "htps://", 1))
    (content / "consulates.yaml").unlink()
    long_answer = content / "money.taxes.yaml"
    long_answer.write_text(
        re.sub(
            r"(?m)^(en:\n  title: .*\n  answer: \|\n)",
            r"\1" + "    x" * 400 + "\n",
            long_answer.read_text(),
        )
    )
    code, lines = kb(content, "check")
    assert code == 1
    assert "error: docs.pesel.yaml: sources[0].url: not a well-formed http(s) URL" in lines[0]
    assert any(line.startswith("error: money.taxes.yaml: en.answer:") for line in lines)
    assert "error: _catalogue.yaml: ids: catalogue topic 'consulates' has no file" in lines


def test_facts_checked_over_a_year_ago_are_flagged_not_failed(content: Path) -> None:
    result = check(content, today=date(2027, 6, 1))
    assert result.errors == ()
    assert len(result.warnings) == 48
    assert str(result.warnings[0]).endswith("2026-04-29 is over 12 months old: recheck")


def test_stats_counts_entries_per_language(content: Path) -> None:
    code, lines = kb(content, "stats")
    assert code == 0
    assert lines == [
        "topics: 48",
        "pl: 48 entries",
        "en: 48 entries (target 50: not met)",
        "uk: 48 entries (target 50: not met)",
        "ru: 48 entries (target 50: not met)",
    ]


@pytest.mark.skipif(
    not SHARED_TOPICS.is_file(), reason="../shared/topics.md is not beside the repo"
)
def test_the_catalogue_copy_matches_the_shared_catalogue() -> None:
    shared = re.findall(r"^\| ([a-z][a-z.-]+) \|", SHARED_TOPICS.read_text(), re.MULTILINE)
    assert catalogue_ids(ROOT / "knowledge") == [topic for topic in shared if topic != "id"]


def drop_language(path: Path, language: str) -> None:
    """Remove one top-level language block (they follow each other: pl, en, uk, ru)."""
    text = path.read_text(encoding="utf-8")
    start = text.index(f"\n{language}:\n")
    following = [text.find(f"\n{other}:\n", start + 1) for other in ("pl", "en", "uk", "ru")]
    end = min([index for index in following if index > start] or [len(text)])
    path.write_text(text[:start] + text[end:], encoding="utf-8")


def test_a_catalogue_topic_needs_every_language_a_new_topic_may_wait(content: Path) -> None:
    drop_language(content / "docs.pesel.yaml", "uk")
    new_topic = content / "city.libraries.yaml"
    shutil.copy(content / "city.guide.yaml", new_topic)
    new_topic.write_text(new_topic.read_text().replace("id: city.guide", "id: city.libraries"))
    drop_language(new_topic, "ru")

    code, lines = kb(content, "check")

    assert code == 1
    assert lines == [
        "error: docs.pesel.yaml: uk: missing: the bot answers in another language",
        "warning: city.libraries.yaml: ru: missing: the bot answers in another language",
        "1 errors, 1 warnings",
    ]

"""Retrieval and language identification on the dev set, against the issue's bars."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from bot.core.knowledge import Resolution
from bot.knowledge.evaluation import Report, evaluate, read_examples
from bot.knowledge.service import LoadedKnowledge, load_knowledge
from tests.conftest import ROOT

DEV_SET = ROOT / "tests" / "data" / "eval_questions.jsonl"


@pytest.fixture(scope="module")
def knowledge() -> LoadedKnowledge:
    return load_knowledge(ROOT / "knowledge", ROOT / "locales")


@pytest.fixture(scope="module")
def report(knowledge: LoadedKnowledge) -> Report:
    def answer(text: str) -> tuple[Resolution, str]:
        result = knowledge.ask(text, "en")
        return result.resolution, result.language

    result = evaluate(read_examples(DEV_SET), answer)
    print("\n" + result.table())
    return result


def test_the_dev_set_is_what_the_issue_asks_for(knowledge: LoadedKnowledge) -> None:
    rows = [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines()]
    per_topic_language = Counter((row["topic"], row["lang"]) for row in rows if row["topic"])
    topic_ids = {topic.id for topic in knowledge.load.topics}
    assert {topic for topic, _ in per_topic_language} == topic_ids
    assert min(per_topic_language.values()) >= 2
    assert len(per_topic_language) == 4 * len(topic_ids)
    assert sum(row["topic"] is None for row in rows) >= 40
    example_questions = {
        question.strip().lower()
        for topic in knowledge.load.topics
        for entry in topic.texts.values()
        for question in entry.questions
    }
    assert [row["text"] for row in rows if row["text"].strip().lower() in example_questions] == []


def test_wrong_answers_stay_under_five_percent(report: Report) -> None:
    assert report.wrong.share <= 0.05, report.table()


def test_out_of_scope_messages_are_not_answered(report: Report) -> None:
    assert report.abstention.share >= 0.90, "\n".join(report.failures)


def test_language_is_identified(report: Report) -> None:
    assert report.language.share >= 0.97, report.table()


def test_top1_accuracy_meets_the_issue_target(report: Report) -> None:
    assert report.top1.share >= 0.90, report.table()


def test_every_language_and_script_is_served(report: Report) -> None:
    """No language or writing style may be left far behind the others."""
    for name, tally in {**report.by_language, **report.by_style}.items():
        assert tally.share >= 0.70, f"{name}: {tally.share:.1%}"

"""`python -m bot ask`, the evaluation interface."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT
from tests.test_cli import run_bot


def test_ask_json_for_one_question(tmp_path: Path) -> None:
    result = run_bot("ask", "--json", "kak poluchit pesel v krakove", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["topic"] == "docs.pesel"
    assert record["lang"] == "ru"
    assert record["score"] > 0
    assert all(alt["topic"] != "docs.pesel" for alt in record["alternatives"])


def test_ask_batch_answers_every_line_in_order_and_ignores_other_fields(tmp_path: Path) -> None:
    batch = tmp_path / "questions.jsonl"
    lines = [
        {"text": "gdzie zrobic meldunek w krakowie", "topic": "ignored", "x": 1},
        {"text": "Яка погода буде завтра?"},
        {"text": "numer alarmowy policja"},
    ]
    batch.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    result = run_bot("ask", "--json", "--batch", str(batch), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["topic"], r["lang"]) for r in records] == [
        ("docs.address-registration", "pl"),
        (None, "uk"),
        ("safety.emergency-numbers", "pl"),
    ]


def test_ask_writes_nothing(tmp_path: Path) -> None:
    run_bot("ask", "pesel", cwd=tmp_path)
    assert not (tmp_path / "var").exists()


def test_ask_needs_text_or_batch(tmp_path: Path) -> None:
    result = run_bot("ask", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "infopoint: ask takes either TEXT or --batch FILE\n"


def test_the_dev_set_batch_runs_quickly_enough_to_use(tmp_path: Path) -> None:
    result = run_bot(
        "ask", "--json", "--batch", str(ROOT / "tests/data/eval_questions.jsonl"), cwd=tmp_path
    )
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 636

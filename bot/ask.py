"""`python -m bot ask`: what the bot would answer, for evaluation and for checking content.

Each text is answered as for a new person: no stored preference, no platform hint, and
nothing is written to the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from bot.knowledge.service import LoadedKnowledge


def answer(knowledge: LoadedKnowledge, text: str, default_language: str) -> dict[str, object]:
    """{"topic": id or None, "lang", "score", "alternatives": [{"topic", "score"}, …]}."""
    result = knowledge.ask(text, default_language)
    answered = result.resolution.topic_id
    return {
        "topic": answered,
        "lang": result.language,
        "score": result.matches[0].score if result.matches else 0.0,
        "alternatives": [
            {"topic": match.topic_id, "score": match.score}
            for match in result.matches
            if match.topic_id != answered
        ],
    }


def batch_texts(path: Path) -> Iterable[str]:
    """The "text" of every JSON line in ``path``; other fields are ignored."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield str(json.loads(line).get("text", ""))


def run_ask(
    knowledge: LoadedKnowledge,
    texts: Iterable[str],
    *,
    as_json: bool,
    default_language: str,
    out: TextIO,
) -> None:
    """One line of output per text, in order."""
    for text in texts:
        record = answer(knowledge, text, default_language)
        if as_json:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            topic = record["topic"] or "(no answer: did you mean / not sure)"
            out.write(f"{topic}  lang={record['lang']}  score={record['score']}\n")

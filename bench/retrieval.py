"""Benchmark: our retrieval against a plain BM25 baseline over the same knowledge files.

    python -m bench.retrieval            (or: make bench)

Prints one Markdown table: dev-set accuracy, load time, per-question latency (p50, p99),
peak memory while loading, and both systems with the knowledge base scaled to 1,000
synthetic topics. BM25 is rank-bm25's BM25Okapi with its default parameters, each topic one
document of all its texts in all four languages, tokenised by lower-cased words: no tuning.
Numbers vary with the machine; the README quotes one run.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from rank_bm25 import BM25Okapi

from bench.synthetic import scale
from bot.core.knowledge import Decision, Match, Resolution, Topic
from bot.knowledge.evaluation import Example, Report, evaluate, read_examples
from bot.knowledge.loader import load_directory
from bot.knowledge.out_of_scope import load_out_of_scope
from bot.knowledge.search import InMemoryKnowledgeBase
from bot.knowledge.service import LoadedKnowledge, load_knowledge

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
LOCALES = ROOT / "locales"
DEV_SET = ROOT / "tests" / "data" / "eval_questions.jsonl"
SCALED_TOPICS = 1000
PASSES = 3
"""Timed passes over the dev set after one warm-up pass."""

_WORD = re.compile(r"\w+")
T = TypeVar("T")


class Bm25Baseline:
    """One BM25 document per topic; the best-scoring topic answers, if any word matched."""

    def __init__(self, topics: Sequence[Topic]) -> None:
        self._ids = [topic.id for topic in topics]
        self._bm25 = BM25Okapi([_tokens(_all_text(topic)) for topic in topics])

    def answer(self, text: str) -> Resolution:
        scores = self._bm25.get_scores(_tokens(text))
        best = int(scores.argmax())
        if scores[best] <= 0:
            return Resolution(Decision.ABSTAIN, ())
        return Resolution(Decision.ANSWER, (Match(self._ids[best], float(scores[best])),))


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _all_text(topic: Topic) -> str:
    return " ".join(
        " ".join((entry.title, entry.answer, *entry.questions, *entry.keywords))
        for entry in topic.texts.values()
    )


@dataclass(frozen=True, slots=True)
class Costs:
    """What one system costs: to load, per question, and in memory."""

    load_ms: float
    p50_ms: float
    p99_ms: float
    peak_mb: float


def measure(build: Callable[[], T], ask: Callable[[T, str], object], texts: list[str]) -> Costs:
    """Load time (best of 3), peak traced memory while loading, latency over the texts."""
    load_times = []
    for _ in range(3):
        started = time.perf_counter()
        system = build()
        load_times.append(time.perf_counter() - started)
    tracemalloc.start()
    build()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    for text in texts:  # warm-up
        ask(system, text)
    latencies = []
    for _ in range(PASSES):
        for text in texts:
            started = time.perf_counter_ns()
            ask(system, text)
            latencies.append((time.perf_counter_ns() - started) / 1e6)
    percentiles = statistics.quantiles(latencies, n=100, method="inclusive")
    return Costs(1000 * min(load_times), percentiles[49], percentiles[98], peak / 2**20)


def ours_answer(knowledge: LoadedKnowledge, text: str) -> tuple[Resolution, str]:
    result = knowledge.ask(text, "en")
    return result.resolution, result.language


def scaled_knowledge(total: int) -> LoadedKnowledge:
    """The real knowledge (language model included) with its index over ``total`` topics."""
    knowledge = load_knowledge(KNOWLEDGE, LOCALES)
    topics = scale(list(knowledge.load.topics), total)
    return replace(knowledge, base=InMemoryKnowledgeBase(topics, load_out_of_scope(KNOWLEDGE)))


def scaled_bm25(total: int) -> Bm25Baseline:
    return Bm25Baseline(scale(list(load_directory(KNOWLEDGE).topics), total))


def _percent(value: float) -> str:
    return f"{100 * value:.1f} %"


def _cost_rows(label: str, target_p99: str, ours: Costs, bm25: Costs) -> list[str]:
    return [
        f"| load time, {label} | {ours.load_ms:.0f} ms | {bm25.load_ms:.0f} ms |",
        f"| latency p50, {label} | {ours.p50_ms:.2f} ms | {bm25.p50_ms:.2f} ms |",
        f"| latency p99, {label} (target {target_p99}) | {ours.p99_ms:.2f} ms "
        f"| {bm25.p99_ms:.2f} ms |",
        f"| peak memory while loading, {label} | {ours.peak_mb:.1f} MB | {bm25.peak_mb:.1f} MB |",
    ]


def first_candidate_share(examples: Sequence[Example], rank: Callable[[str], str | None]) -> float:
    """How often the best-ranked topic is the right one, before any decision to answer:
    ranking quality alone, comparable between a system that abstains and one that cannot."""
    in_scope = [example for example in examples if example.topic is not None]
    return sum(rank(example.text) == example.topic for example in in_scope) / len(in_scope)


def table(
    ours: Report,
    bm25: Report,
    ranking: tuple[float, float],
    costs: dict[str, Costs],
    topics: int,
) -> str:
    """The Markdown table the README quotes."""
    rows = [
        ("top-1 accuracy, in scope (target ≥ 90 %)", ours.top1.share, bm25.top1.share),
        ("best-ranked topic right, before deciding to answer", *ranking),
        ("wrong answers, in scope (target ≤ 5 %)", ours.wrong.share, bm25.wrong.share),
        ("out-of-scope abstention (target ≥ 90 %)", ours.abstention.share, bm25.abstention.share),
    ]
    lead = 100 * (ours.top1.share - bm25.top1.share)
    return "\n".join(
        [
            "| measure | ours | BM25 (rank-bm25, untuned) |",
            "|---|---:|---:|",
            *(f"| {label} | {_percent(a)} | {_percent(b)} |" for label, a, b in rows),
            f"| language accuracy (target ≥ 97 %) | {_percent(ours.language.share)} | none |",
            *_cost_rows(f"{topics} topics", "≤ 2 ms", costs["ours"], costs["bm25"]),
            *_cost_rows(
                f"{SCALED_TOPICS} topics",
                "≤ 10 ms",
                costs["ours-scaled"],
                costs["bm25-scaled"],
            ),
            "",
            f"Ours leads BM25 top-1 by {lead:.1f} points (target ≥ 20).",
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.parse_args(argv)
    examples = read_examples(DEV_SET)
    texts = [example.text for example in examples]
    knowledge = load_knowledge(KNOWLEDGE, LOCALES)
    baseline = Bm25Baseline(knowledge.load.topics)
    ours_report = evaluate(examples, lambda text: ours_answer(knowledge, text))
    bm25_report = evaluate(examples, lambda text: (baseline.answer(text), ""))

    def our_best(text: str) -> str | None:
        matches = knowledge.base.search(text)
        return matches[0].topic_id if matches else None

    def bm25_best(text: str) -> str | None:
        return baseline.answer(text).topic_id

    ranking = (
        first_candidate_share(examples, our_best),
        first_candidate_share(examples, bm25_best),
    )
    costs = {
        "ours": measure(lambda: load_knowledge(KNOWLEDGE, LOCALES), ours_answer, texts),
        "bm25": measure(
            lambda: Bm25Baseline(load_directory(KNOWLEDGE).topics), Bm25Baseline.answer, texts
        ),
        "ours-scaled": measure(lambda: scaled_knowledge(SCALED_TOPICS), ours_answer, texts),
        "bm25-scaled": measure(lambda: scaled_bm25(SCALED_TOPICS), Bm25Baseline.answer, texts),
    }
    print(
        f"Dev set: {len(examples)} lines ({ours_report.top1.total} in scope, "
        f"{ours_report.abstention.total} out of scope); {PASSES} timed passes.\n"
    )
    print(table(ours_report, bm25_report, ranking, costs, len(knowledge.load.topics)))


if __name__ == "__main__":
    main()

"""The knowledge base with everything built from it: retrieval and language identification."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from bot.core.knowledge import Match, Resolution, resolve
from bot.knowledge.langid import NaiveBayesLanguageIdentifier
from bot.knowledge.loader import LoadResult, load_directory
from bot.knowledge.out_of_scope import load_out_of_scope
from bot.knowledge.search import InMemoryKnowledgeBase

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the bot makes of one question: candidates, decision, and reply language."""

    matches: list[Match]
    resolution: Resolution
    language: str


@dataclass(frozen=True, slots=True)
class LoadedKnowledge:
    """One consistent snapshot: topics, their index and a language model trained on them."""

    base: InMemoryKnowledgeBase
    languages: NaiveBayesLanguageIdentifier
    load: LoadResult

    def ask(self, text: str, default_language: str) -> Answer:
        """Resolve ``text`` as for a new person, searching once."""
        matches = self.base.search(text)
        guess = self.languages.identify(text)
        return Answer(matches, resolve(matches), guess.language if guess else default_language)


def load_knowledge(directory: Path) -> LoadedKnowledge:
    """Load and index ``directory``; a broken file is logged and left out."""
    result = load_directory(directory)
    for problem in result.problems:
        log.warning("knowledge file skipped: %s", problem)
    samples = [
        (text, language)
        for topic in result.topics
        for language, entry in topic.texts.items()
        for text in (entry.title, *entry.questions)
    ]
    return LoadedKnowledge(
        InMemoryKnowledgeBase(result.topics, load_out_of_scope(directory)),
        NaiveBayesLanguageIdentifier(samples),
        result,
    )

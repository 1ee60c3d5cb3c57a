"""The knowledge base with everything built from it, and its reload that never breaks the bot.

``LoadedKnowledge`` is one consistent snapshot: topics, their retrieval index and a language
model trained on them. ``LiveKnowledge`` is what the running bot holds: it serves the current
snapshot and swaps in a new one only when the whole directory loads without a problem.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import yaml
from babel.messages.mofile import read_mo

from bot.core.i18n import DOMAIN, LANGUAGES
from bot.core.knowledge import Match, Resolution, Topic, resolve
from bot.core.language import LanguageGuess
from bot.core.signals import Signals
from bot.knowledge.langid import NaiveBayesLanguageIdentifier, borrowed_terms
from bot.knowledge.loader import LoadResult, Problem, load_directory
from bot.knowledge.out_of_scope import OutOfScope, load_out_of_scope
from bot.knowledge.search import InMemoryKnowledgeBase
from bot.knowledge.signals import DANGER_FILE, SignalsError, load_signals

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the bot makes of one question: candidates, decision, and reply language."""

    matches: list[Match]
    resolution: Resolution
    language: str


@dataclass(frozen=True, slots=True)
class LoadedKnowledge:
    """One consistent snapshot of the knowledge directory and the models built from it."""

    base: InMemoryKnowledgeBase
    languages: NaiveBayesLanguageIdentifier
    load: LoadResult
    fingerprint: str
    """A hash of the content files: it changes exactly when the content does."""
    signals: Signals = field(default_factory=Signals)
    """Danger and ask-for-person phrases (knowledge/_danger.yaml, _ask_for_person.yaml)."""

    def ask(self, text: str, default_language: str) -> Answer:
        """Resolve ``text`` as for a new person, searching once."""
        matches = self.base.search(text)
        guess = self.languages.identify(text)
        return Answer(matches, resolve(matches), guess.language if guess else default_language)


def content_fingerprint(directory: Path) -> str:
    """SHA-256 over the names and bytes of the directory's YAML files."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.yaml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def interface_samples(locale_dir: Path | None) -> Iterator[tuple[str, str]]:
    """The bot's own translated interface strings as (text, language): more real sentences
    in each language for the language model, present whatever the knowledge base holds."""
    if locale_dir is None:
        return
    for language in LANGUAGES:
        mo_path = locale_dir / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if not mo_path.is_file():
            continue
        with mo_path.open("rb") as mo_file:
            catalogue = read_mo(mo_file)
        for message in catalogue:
            if not message.id:
                continue  # the header
            translated = message.string or message.id
            texts = translated if isinstance(translated, (list, tuple)) else [translated]
            yield from ((str(text), language) for text in texts if text)


def _language_samples(
    topics: Sequence[Topic], out_of_scope: OutOfScope, locale_dir: Path | None
) -> list[tuple[str, str]]:
    samples = [
        (text, language)
        for topic in topics
        for language, entry in topic.texts.items()
        for text in (entry.title, *entry.questions)
    ]
    samples += [
        (phrase, language)
        for language, phrases in out_of_scope.phrases.items()
        for phrase in phrases
    ]
    samples += interface_samples(locale_dir)
    return samples


def load_knowledge(directory: Path, locale_dir: Path | None = None) -> LoadedKnowledge:
    """Load and index ``directory``; a broken file is logged and left out."""
    fingerprint = content_fingerprint(directory)
    result = load_directory(directory)
    for problem in result.problems:
        log.warning("knowledge file skipped: %s", problem)
    out_of_scope = load_out_of_scope(directory)
    borrowed = borrowed_terms(result.topics)
    try:
        signals = load_signals(directory)
    except (SignalsError, yaml.YAMLError, KeyError, TypeError, AttributeError) as error:
        # Counted as a problem: a reload with a broken phrase list keeps the previous one.
        problem = Problem(DANGER_FILE, "phrases", str(error))
        log.warning("knowledge file skipped: %s", problem)
        result = LoadResult(result.topics, (*result.problems, problem))
        signals = Signals()
    return LoadedKnowledge(
        InMemoryKnowledgeBase(result.topics, out_of_scope),
        NaiveBayesLanguageIdentifier(
            _language_samples(result.topics, out_of_scope, locale_dir), borrowed
        ),
        result,
        fingerprint,
        signals,
    )


class ReloadStatus(StrEnum):
    """What a reload did."""

    UNCHANGED = "unchanged"
    RELOADED = "reloaded"
    KEPT_PREVIOUS = "kept-previous"
    """The new content had problems: the bot goes on with the last good knowledge base."""


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """The result of one reload, for the log now and for staff notices."""

    status: ReloadStatus
    topics: int
    problems: tuple[Problem, ...] = ()


class LiveKnowledge:
    """The knowledge the running bot answers from; implements KnowledgeBase and
    LanguageIdentifier by delegating to the current snapshot, which a reload swaps whole."""

    def __init__(
        self,
        directory: Path,
        locale_dir: Path | None = None,
        on_loaded: Callable[[LoadedKnowledge], Awaitable[None]] | None = None,
        on_refused: Callable[[ReloadOutcome], Awaitable[None]] | None = None,
    ) -> None:
        self._directory = directory
        self._locale_dir = locale_dir
        self._on_loaded = on_loaded
        """Told of every snapshot put in service (the welcome-package indicator)."""
        self.on_refused = on_refused
        """Told once of each distinct content refused (staff are notified); public because
        the staff boards exist only once the messengers have started."""
        self.current = load_knowledge(directory, locale_dir)
        self._reloading = asyncio.Lock()
        self._refused: tuple[str, ReloadOutcome] | None = None
        """The fingerprint of the content last refused, and what its reload found."""

    async def announce(self) -> None:
        """Tell ``on_loaded`` of the snapshot in service (called once at start)."""
        if self._on_loaded is not None:
            await self._on_loaded(self.current)

    async def reload(self, *, force: bool = False) -> ReloadOutcome:
        """Load the directory again if it changed (or when forced); keep the last good
        snapshot when any file has a problem."""
        async with self._reloading:
            fingerprint = await asyncio.to_thread(content_fingerprint, self._directory)
            if fingerprint == self.current.fingerprint and not force:
                return ReloadOutcome(ReloadStatus.UNCHANGED, len(self.current.load.topics))
            if self._refused is not None and self._refused[0] == fingerprint and not force:
                # The same broken content as last time: no second load, errors or notice.
                return self._refused[1]
            candidate = await asyncio.to_thread(load_knowledge, self._directory, self._locale_dir)
            if candidate.load.problems:
                return await self._refuse(candidate)
            self._refused = None  # content broken again later is news again
            self.current = candidate  # one assignment: a reply never mixes two snapshots
            log.info("knowledge base reloaded: %d topics", len(candidate.load.topics))
            await self.announce()
            return ReloadOutcome(ReloadStatus.RELOADED, len(candidate.load.topics))

    async def _refuse(self, candidate: LoadedKnowledge) -> ReloadOutcome:
        """Keep the current snapshot; log why, and tell ``on_refused`` unless it knows."""
        for problem in candidate.load.problems:
            log.error("knowledge reload refused: %s", problem)
        log.error("kept the previous knowledge base (%d topics)", len(self.current.load.topics))
        outcome = ReloadOutcome(
            ReloadStatus.KEPT_PREVIOUS,
            len(self.current.load.topics),
            tuple(candidate.load.problems),
        )
        told = self._refused is not None and self._refused[0] == candidate.fingerprint
        self._refused = (candidate.fingerprint, outcome)
        if not told and self.on_refused is not None:
            try:
                await self.on_refused(outcome)
            except Exception:
                # The reload itself went right: the bot keeps the last good content.
                log.exception("could not tell staff that the knowledge reload was refused")
        return outcome

    # KnowledgeBase
    def topic(self, topic_id: str) -> Topic | None:
        return self.current.base.topic(topic_id)

    def topics_in(self, category: str) -> list[Topic]:
        return self.current.base.topics_in(category)

    def categories(self) -> list[str]:
        return self.current.base.categories()

    def search(self, text: str) -> list[Match]:
        return self.current.base.search(text)

    # SignalSource
    @property
    def signals(self) -> Signals:
        return self.current.signals

    # LanguageIdentifier
    def identify(self, text: str) -> LanguageGuess | None:
        return self.current.languages.identify(text)

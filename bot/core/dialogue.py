"""The dialogue engine: one inbound event in, the localised replies out.

Every adapter (Telegram, Matrix, console) calls ``DialogueEngine.handle``; nothing here
knows which one it is.
"""

from __future__ import annotations

import logging

from bot.core.coordinator import coordinator_report
from bot.core.event_writes import write_outcome
from bot.core.flood import FloodGate, RecentLanguages, Verdict
from bot.core.handoff import EventEffects, HandOff, TicketIntent
from bot.core.i18n import LANGUAGES, Translator
from bot.core.knowledge import CATEGORIES, Decision, Handoff, KnowledgeBase, resolve
from bot.core.language import FIRST_CONTACT_CONFIDENCE, LanguageIdentifier, normalise_hint
from bot.core.locks import KeyedLocks
from bot.core.messages import Inbound, Reply, Unreadable
from bot.core.outages import OUTAGE_DELAYS, through_outages
from bot.core.ports import (
    Conversation,
    ConversationStore,
    PersonRecord,
    Pseudonymiser,
    ReportDesk,
)
from bot.core.rating import rate
from bot.core.screens import HUMAN, Screens
from bot.core.signals import DangerCategory
from bot.core.smalltalk import SmallTalk, classify_small_talk
from bot.core.tickets import TicketEvents, TicketReason
from bot.core.typed import command_of, typed_choice

log = logging.getLogger(__name__)

Outcome = tuple[list[Reply], EventEffects]
"""An event's replies, and what it changed beyond them."""


class DialogueEngine:
    """Decides what to say to each event, keeping each person's state in the store."""

    def __init__(
        self,
        *,
        store: ConversationStore,
        knowledge: KnowledgeBase,
        languages: LanguageIdentifier,
        translator: Translator,
        pseudonymise: Pseudonymiser,
        default_language: str,
        handoff: HandOff,
        retention_days: int = 90,
        reports: ReportDesk | None = None,
        ticket_events: TicketEvents | None = None,
        flood_per_minute: int = 20,
        outage_delays: tuple[float, ...] = OUTAGE_DELAYS,
    ) -> None:
        self._store = store
        self._knowledge = knowledge
        self._languages = languages
        self._pseudonymise = pseudonymise
        self._default_language = default_language
        self._locks: KeyedLocks[str] = KeyedLocks()
        self.screens = Screens(translator, knowledge, retention_days)
        self._reports = reports
        self.handoff = handoff
        self._ticket_events = ticket_events
        self._flood = FloodGate(flood_per_minute)
        self._languages_seen = RecentLanguages()
        self.outage_delays = outage_delays
        """Seconds between tries while the database is unreachable (see bot.core.outages)."""

    async def handle(self, inbound: Inbound) -> list[Reply]:
        """Handle one event in one transaction; a redelivered event yields no replies."""
        key = self._pseudonymise(inbound.channel, inbound.user_id)
        verdict = self._flood.check(key, inbound.received_at)
        if verdict is not Verdict.ALLOW:
            # Nothing is read or written for a flood: it must cost the database nothing.
            if verdict is Verdict.DROP:
                return []
            log.info("flood control: slowing down %s", key[:12])
            language = self._languages_seen.get(key) or self._hint_or_default(inbound)
            return [self.screens.slow_down(language)]
        ended: list[Outcome] = []
        """Attempts that got as far as their COMMIT, whether or not it was kept."""

        async def attempt() -> Outcome:
            # A new EventEffects each time: a rolled-back attempt leaves no effects behind.
            return await self._handle_in_transaction(key, inbound, EventEffects(), ended)

        async with self._locks.hold(key):
            # Raises StorageUnavailableError when the database stays away: the adapter apologises.
            replies, effects = await through_outages(
                attempt, self._store.is_outage, self.outage_delays
            )
            if replies:
                self._languages_seen.remember(key, replies[-1].language)
            # Staff boards learn of a ticket only once its change is committed.
            for number in dict.fromkeys(effects.published):
                await self._tell_staff(number)
        return replies

    async def _handle_in_transaction(
        self, key: str, inbound: Inbound, effects: EventEffects, ended: list[Outcome]
    ) -> Outcome:
        now = inbound.received_at
        async with self._store.begin() as conversation:
            person = await conversation.claim_and_load(inbound.channel, inbound.event_id, key, now)
            if person is None:
                # Handled before; or by the last attempt, whose COMMIT was kept though its
                # connection died. Nothing else claims the event while the person's lock is
                # held, so once an attempt ended, its replies and effects are this event's.
                return ended[-1] if ended else ([], effects)
            replies = await self._work(conversation, person, inbound, effects)
            ended.append((replies, effects))
        return replies, effects

    async def _work(
        self, unit: Conversation, person: PersonRecord, inbound: Inbound, effects: EventEffects
    ) -> list[Reply]:
        """Everything the claimed event reads and writes, in its transaction."""
        now = inbound.received_at
        if command_of(inbound.text) == "/report":
            language = self._language(person, inbound)
            return await coordinator_report(
                self._reports, self.screens, person.key, language, inbound
            )
        replies = self._respond(person, inbound, effects)
        if person.erased:
            address = (inbound.channel, inbound.address) if inbound.address else None
            await unit.erase_person(person.key, now, address)
            return replies  # nothing new is written about someone who asked to be forgotten
        replies += await self.handoff.apply(
            unit,
            person,
            inbound,
            language=self._language(person, inbound),
            effects=effects,
            screens=self.screens,
            search=self._knowledge.search,
        )
        await write_outcome(unit, person, inbound, replies, effects=effects, now=now)
        return replies

    async def _tell_staff(self, number: int) -> None:
        if self._ticket_events is None:
            return
        try:
            await self._ticket_events.changed(number)
        except Exception:
            # The ticket is stored; the boards are brought up to date at the next start.
            log.exception("could not update the staff boards for ticket #%d", number)

    def apology(self, language_hint: str | None) -> Reply:
        """What an adapter says when handling an event failed, before anything was stored."""
        return self.screens.apology(normalise_hint(language_hint) or self._default_language)

    def private_chats_only(self, language_hint: str | None) -> Reply:
        """What an adapter says before leaving a group it was added to."""
        return self.screens.private_chats_only(
            normalise_hint(language_hint), self._default_language
        )

    def _hint_or_default(self, inbound: Inbound) -> str:
        return normalise_hint(inbound.language_hint) or self._default_language

    def _language(self, person: PersonRecord, inbound: Inbound) -> str:
        return person.language or normalise_hint(inbound.language_hint) or self._default_language

    def _respond(
        self, person: PersonRecord, inbound: Inbound, effects: EventEffects
    ) -> list[Reply]:
        if inbound.unreadable is not None:
            # Never silence: the person would think they had been heard.
            language = self._language(person, inbound)
            if inbound.unreadable is Unreadable.ENCRYPTED:
                return [self.screens.undecryptable(language)]
            if inbound.unreadable is Unreadable.PICTURE_OR_FILE:
                return [self.screens.picture_or_file(language)]
            return [self.screens.not_text(language)]
        text = (inbound.text or "").strip()
        choice = inbound.choice or typed_choice(person.state.last_options, text)
        if choice is not None:
            return self._on_choice(person, inbound, choice, effects)
        if text.startswith("/"):
            return self._on_command(person, inbound, text, effects)
        return self._on_text(person, inbound, text, effects)

    def _on_choice(  # noqa: PLR0911 - one return per kind of option reads best
        self,
        person: PersonRecord,
        inbound: Inbound,
        choice: str,
        effects: EventEffects,
    ) -> list[Reply]:
        kind, _, value = choice.partition(":")
        if kind == "lang" and value in LANGUAGES:
            return self._settle_language(person, value, effects)
        language = self._language(person, inbound)
        screens = self.screens
        if kind == "rate":
            return rate(
                self.screens,
                self._knowledge,
                person=person,
                language=language,
                value=value,
                effects=effects,
            )
        if kind == HUMAN:
            return self._ask_for_person(person, language, None, effects)
        if kind == "handoff" and value in ("yes", "no"):
            return self.handoff.on_offer(person, language, value == "yes", effects)
        if kind == "forget":
            if value == "yes":
                person.erased = True
                return [screens.forgotten(language)]
            return [screens.forget_cancelled(language), screens.main_menu(language)]
        if kind == "menu":
            return [screens.main_menu(language)]
        if kind == "cat" and value in CATEGORIES and self._knowledge.topics_in(value):
            return [screens.category(language, value)]
        if kind == "topic" and (topic := self._knowledge.topic(value)) is not None:
            return [screens.answer(language, topic)]
        # An old keyboard, or a forged callback: say so and offer the way forward.
        return [screens.stale_option(language), screens.main_menu(language)]

    def _settle_language(
        self, person: PersonRecord, language: str, effects: EventEffects
    ) -> list[Reply]:
        """Store an explicit choice, then continue where the person was."""
        person.language = language
        person.language_explicit = True
        replies = [self.screens.language_set(language)]
        replies += self._first_contact_notice(person, language)
        pending, person.state.pending_text = person.state.pending_text, None
        if pending:
            replies += self._answer_text(person, language, pending, effects)
        else:
            replies.append(self.screens.main_menu(language))
        return replies

    def _first_contact_notice(self, person: PersonRecord, language: str) -> list[Reply]:
        if person.state.step != "new":
            return []
        person.state.step = "ready"
        return [self.screens.privacy_notice(language)]

    def _on_command(  # noqa: PLR0911 - one return per command reads best
        self, person: PersonRecord, inbound: Inbound, text: str, effects: EventEffects
    ) -> list[Reply]:
        command = command_of(text) or ""
        language = self._language(person, inbound)
        screens = self.screens
        match command:
            case "/start" if person.language is None:
                return [screens.language_picker(normalise_hint(inbound.language_hint))]
            case "/start":
                return [
                    *self._first_contact_notice(person, language),
                    screens.welcome_back(language),
                ]
            case "/language":
                return [screens.language_picker(person.language)]
            case "/menu":
                return [screens.main_menu(language)]
            case "/help":
                return [screens.help(language)]
            case "/privacy":
                return [screens.privacy(language)]
            case "/forget":
                return [screens.forget_confirmation(language)]
            case "/human":
                return self._ask_for_person(person, language, None, effects)
            case "/cancel":
                return self.handoff.cancel(person, language, effects)
            case _:
                return [screens.unknown_command(language, command)]

    def _on_text(
        self, person: PersonRecord, inbound: Inbound, text: str, effects: EventEffects
    ) -> list[Reply]:
        if not text:
            return [self.screens.empty_text(self._language(person, inbound))]
        danger = self.handoff.danger_in(text)
        if person.ticket is not None:
            # A person handles the case now: the bot only passes messages on.
            if danger is None:
                effects.line = text
                return []
            language = self._language(person, inbound)
            return self.handoff.on_danger(person, language, text, danger, effects)
        replies = self._follow_language(person, inbound, text, urgent=danger is not None)
        if person.language is None:
            # Keep the question only until the person picks a language (see /privacy).
            person.state.pending_text = text
            return [self.screens.language_picker(None)]
        return replies + self._on_question(person, person.language, text, danger, effects)

    def _on_question(
        self,
        person: PersonRecord,
        language: str,
        text: str,
        danger: DangerCategory | None,
        effects: EventEffects,
    ) -> list[Reply]:
        """Text in a settled language, with no ticket open."""
        if danger is not None:
            return [
                *self.handoff.on_danger(person, language, text, danger, effects),
                *self._answer_text(person, language, text, effects, only_answer=True),
            ]
        if person.state.awaiting_summary is not None:
            return self.handoff.on_summary(person, language, text, effects)
        if self.handoff.asks_for_person(text):
            return self._ask_for_person(person, language, text, effects)
        return self._answer_text(person, language, text, effects)

    def _follow_language(
        self, person: PersonRecord, inbound: Inbound, text: str, *, urgent: bool
    ) -> list[Reply]:
        """Settle the language from the text; an urgent message never waits for a choice."""
        replies: list[Reply] = []
        guess = self._languages.identify(text)
        if person.language is None:
            sure = guess is not None and guess.confidence >= FIRST_CONTACT_CONFIDENCE
            guessed = guess.language if guess and sure else normalise_hint(inbound.language_hint)
            if guessed is None and urgent:
                guessed = guess.language if guess else self._default_language
            if guessed is None:
                return replies
            person.language = guessed
            replies.append(self.screens.language_set(guessed))
            replies += self._first_contact_notice(person, guessed)
        elif (
            guess is not None
            and guess.clear
            and guess.language != person.language
            and not person.language_explicit
        ):
            # A language the bot guessed gives way to one the person clearly writes in; a
            # language the person chose stays until they choose again.
            previous, person.language = person.language, guess.language
            replies.append(self.screens.language_switched(guess.language, previous))
        return replies

    def _ask_for_person(
        self, person: PersonRecord, language: str, text: str | None, effects: EventEffects
    ) -> list[Reply]:
        if person.ticket is not None:
            return [self.handoff.screens.already_open(language, person.ticket)]
        intent = TicketIntent(TicketReason.ASKED, text)
        return self.handoff.request(person, language, intent, effects, with_request=True)

    def _answer_text(
        self,
        person: PersonRecord,
        language: str,
        text: str,
        effects: EventEffects,
        *,
        only_answer: bool = False,
    ) -> list[Reply]:
        """A knowledge answer, a choice between close topics, or "not sure" (counted toward
        offering a person). ``only_answer``: a confident answer or nothing."""
        small_talk = None if only_answer else classify_small_talk(text)
        if small_talk is not None:
            greeting = small_talk is SmallTalk.GREETING
            return [self.screens.greeting(language) if greeting else self.screens.thanks(language)]
        matches = self._knowledge.search(text)
        resolution = resolve(matches)
        topics = [
            topic
            for match in resolution.candidates
            if (topic := self._knowledge.topic(match.topic_id)) is not None
        ]
        if resolution.decision is Decision.ANSWER and topics:
            person.state.unanswered, person.state.last_question = 0, None
            replies = [self.screens.answer(language, topics[0])]
            if topics[0].handoff is Handoff.ALWAYS and not only_answer:
                intent = TicketIntent(TicketReason.POLICY, text, (topics[0].id,))
                replies += self.handoff.request(person, language, intent, effects)
            return replies
        if only_answer:
            return []
        if resolution.decision is Decision.CLARIFY and topics:
            return [self.screens.did_you_mean(language, topics)]
        if not matches:
            return [self.screens.not_understood(language)]  # not ours: weather, recipes, …
        # A question in our field the bot is unsure of: at the second, a person is offered.
        return [
            self.screens.not_understood(language),
            *self.handoff.after_unanswered(person, language, text),
        ]

"""The dialogue engine: one inbound event in, the localised replies out.

Every adapter (Telegram, Matrix, console) calls ``DialogueEngine.handle``; nothing here
knows which one it is.
"""

from __future__ import annotations

import logging

from bot.core.i18n import LANGUAGES, Translator
from bot.core.knowledge import CATEGORIES, Decision, KnowledgeBase, resolve
from bot.core.language import FIRST_CONTACT_CONFIDENCE, LanguageIdentifier, normalise_hint
from bot.core.locks import KeyedLocks
from bot.core.messages import Attachment, Inbound, Reply
from bot.core.ports import (
    AssessmentNote,
    ContactNote,
    ConversationStore,
    PersonRecord,
    Pseudonymiser,
    ReportDesk,
)
from bot.core.screens import Screens
from bot.core.smalltalk import SmallTalk, classify_small_talk
from bot.core.text import fold_latin

log = logging.getLogger(__name__)


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
        retention_days: int = 90,
        reports: ReportDesk | None = None,
    ) -> None:
        self._store = store
        self._knowledge = knowledge
        self._languages = languages
        self._pseudonymise = pseudonymise
        self._default_language = default_language
        self._locks = KeyedLocks()
        self.screens = Screens(translator, knowledge, retention_days)
        self._reports = reports

    async def handle(self, inbound: Inbound) -> list[Reply]:
        """Handle one event in one transaction; a redelivered event yields no replies."""
        key = self._pseudonymise(inbound.channel, inbound.user_id)
        async with self._locks.hold(key), self._store.begin() as conversation:
            if not await conversation.claim_event(
                inbound.channel, inbound.event_id, inbound.received_at
            ):
                return []
            person = await conversation.load_person(key, inbound.channel, inbound.received_at)
            assessments: list[AssessmentNote] = []
            if _command_of(inbound.text) == "/report":
                return await self._report(person, inbound)
            replies = self._respond(person, inbound, assessments)
            if person.erased:
                await conversation.erase_person(key)
                return replies  # nothing new is written about someone who asked to be forgotten
            options = next((reply.options for reply in reversed(replies) if reply.options), ())
            person.state.last_options = [[option.id, option.label] for option in options]
            answered = tuple(reply.topic_id for reply in replies if reply.topic_id)
            # A topic answered again may be rated again: one vote per answer shown.
            person.state.rated = [topic for topic in person.state.rated if topic not in answered]
            await conversation.save_person(person, inbound.received_at)
            await conversation.record_contact(
                key,
                inbound.channel,
                ContactNote(person.language, answered),
                inbound.received_at,
            )
            for assessment in assessments:
                await conversation.record_assessment(assessment, inbound.received_at)
            return replies

    async def _report(self, person: PersonRecord, inbound: Inbound) -> list[Reply]:
        """/report [YYYY-MM]: the coordinator's report; anyone else is politely refused.

        Not a contact: reports are staff work, not help to a beneficiary.
        """
        language = self._language(person, inbound)
        desk = self._reports
        if desk is None or not desk.is_coordinator(inbound.channel, inbound.user_id):
            log.warning("refused /report from a non-coordinator (%s)", person.key[:12])
            return [self.screens.not_a_coordinator(language)]
        argument = (inbound.text or "").split()[1:2]
        report_language = language if language in ("pl", "en") else "pl"
        try:
            report = await desk.monthly(
                argument[0] if argument else None, report_language, inbound.received_at
            )
        except ValueError as error:
            return [self.screens.report_problem(language, str(error))]
        return [
            Reply(
                report.summary,
                report_language,
                attachment=Attachment(
                    report.filename,
                    report.content,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
            )
        ]

    def apology(self, language_hint: str | None) -> Reply:
        """What an adapter says when handling an event failed, before anything was stored."""
        return self.screens.apology(normalise_hint(language_hint) or self._default_language)

    def _language(self, person: PersonRecord, inbound: Inbound) -> str:
        return person.language or normalise_hint(inbound.language_hint) or self._default_language

    def _respond(
        self, person: PersonRecord, inbound: Inbound, assessments: list[AssessmentNote]
    ) -> list[Reply]:
        text = (inbound.text or "").strip()
        choice = inbound.choice or self._typed_choice(person, text)
        if choice is not None:
            return self._on_choice(person, inbound, choice, assessments)
        if text.startswith("/"):
            return self._on_command(person, inbound, text)
        return self._on_text(person, inbound, text)

    @staticmethod
    def _typed_choice(person: PersonRecord, text: str) -> str | None:
        """An option chosen by typing its number, label or value ("2", "English", "en")."""
        offered = person.state.last_options
        if text.isdecimal() and 1 <= int(text) <= len(offered):
            return offered[int(text) - 1][0]
        folded = fold_latin(text)
        if not folded:
            return None
        for option_id, label in offered:
            if folded in (fold_latin(label), option_id.partition(":")[2]):
                return option_id
        return None

    def _on_choice(  # noqa: PLR0911 - one return per kind of option reads best
        self,
        person: PersonRecord,
        inbound: Inbound,
        choice: str,
        assessments: list[AssessmentNote],
    ) -> list[Reply]:
        kind, _, value = choice.partition(":")
        if kind == "lang" and value in LANGUAGES:
            return self._settle_language(person, value)
        language = self._language(person, inbound)
        screens = self.screens
        if kind == "rate":
            return self._rate(person, language, value, assessments)
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

    def _rate(
        self,
        person: PersonRecord,
        language: str,
        value: str,
        assessments: list[AssessmentNote],
    ) -> list[Reply]:
        """A 👍/👎 under an answer: counted once per answer shown, for the programme."""
        verdict, _, topic_id = value.partition(":")
        if verdict not in ("up", "down") or self._knowledge.topic(topic_id) is None:
            return [self.screens.stale_option(language), self.screens.main_menu(language)]
        if topic_id in person.state.rated:
            return [self.screens.already_rated(language)]
        person.state.rated = [*person.state.rated[-19:], topic_id]
        assessments.append(AssessmentNote(verdict == "up", "answer", topic_id))
        return [self.screens.thanks_for_rating(language)]

    def _settle_language(self, person: PersonRecord, language: str) -> list[Reply]:
        """Store an explicit choice, then continue where the person was."""
        person.language = language
        person.language_explicit = True
        replies = [self.screens.language_set(language)]
        replies += self._first_contact_notice(person, language)
        pending, person.state.pending_text = person.state.pending_text, None
        if pending:
            replies += self._answer_text(language, pending)
        else:
            replies.append(self.screens.main_menu(language))
        return replies

    def _first_contact_notice(self, person: PersonRecord, language: str) -> list[Reply]:
        if person.state.step != "new":
            return []
        person.state.step = "ready"
        return [self.screens.privacy_notice(language)]

    def _on_command(  # noqa: PLR0911 - one return per command reads best
        self, person: PersonRecord, inbound: Inbound, text: str
    ) -> list[Reply]:
        command = _command_of(text) or ""
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
            case _:
                return [screens.unknown_command(language, command)]

    def _on_text(self, person: PersonRecord, inbound: Inbound, text: str) -> list[Reply]:
        if not text:
            return [self.screens.empty_text(self._language(person, inbound))]
        replies: list[Reply] = []
        guess = self._languages.identify(text)
        if person.language is None:
            sure = guess is not None and guess.confidence >= FIRST_CONTACT_CONFIDENCE
            guessed = guess.language if guess and sure else normalise_hint(inbound.language_hint)
            if guessed is None:
                # Keep the question only until the person picks a language (see /privacy).
                person.state.pending_text = text
                return [self.screens.language_picker(None)]
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
        return replies + self._answer_text(person.language, text)

    def _answer_text(self, language: str, text: str) -> list[Reply]:
        small_talk = classify_small_talk(text)
        if small_talk is SmallTalk.GREETING:
            return [self.screens.greeting(language)]
        if small_talk is SmallTalk.THANKS:
            return [self.screens.thanks(language)]
        resolution = resolve(self._knowledge.search(text))
        topics = [
            topic
            for match in resolution.candidates
            if (topic := self._knowledge.topic(match.topic_id)) is not None
        ]
        if resolution.decision is Decision.ANSWER and topics:
            return [self.screens.answer(language, topics[0])]
        if resolution.decision is Decision.CLARIFY and topics:
            return [self.screens.did_you_mean(language, topics)]
        return [self.screens.not_understood(language)]


def _command_of(text: str | None) -> str | None:
    """ "/start@infopoint_bot extra words" -> "/start"; None for text that is not a command."""
    stripped = (text or "").strip()
    if not stripped.startswith("/"):
        return None
    return stripped.split(maxsplit=1)[0].split("@", 1)[0].lower()

"""The person's side of a hand-off to staff: when to open a ticket, and what to say.

The dialogue engine asks this class what to reply and collects what should happen to
tickets in ``EventEffects``; the engine then writes them in the same transaction, because
only then is the ticket's number known.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.core.handoff_screens import HandoffScreens
from bot.core.knowledge import Match
from bot.core.messages import Inbound, Reply
from bot.core.office_hours import OfficeHours
from bot.core.ports import AssessmentNote, Conversation, PersonRecord
from bot.core.screens import Screens
from bot.core.signals import DangerCategory, Signals
from bot.core.text import words
from bot.core.tickets import Author, NewTicket, RatingOutcome, TicketLine, TicketReason

OFFER_AFTER_UNANSWERED = 2
"""Questions in a row the bot could not answer before it offers a person."""
ENOUGH_WORDS = 4
"""A description staff can act on has at least this many words."""
ENOUGH_WORDS_WITH_REQUEST = 8
"""A message asking for a person describes the case too only when it is this long."""


class SignalSource(Protocol):
    """The danger and ask-for-person phrases currently loaded with the knowledge base."""

    @property
    def signals(self) -> Signals: ...


@dataclass(frozen=True, slots=True)
class TicketIntent:
    reason: TicketReason
    summary: str | None
    topics: tuple[str, ...] = ()

    @property
    def priority(self) -> bool:
        return self.reason is TicketReason.DANGER


@dataclass(slots=True)
class EventEffects:
    """What the person's event does beyond its replies (tickets, ratings), applied by the
    engine in its transaction."""

    open: TicketIntent | None = None
    line: str | None = None
    """The person's text, for their open ticket."""
    cancel: bool = False
    raise_priority: bool = False
    rate: tuple[int, bool] | None = None
    """(ticket number, positive) of a "did we help?" answer."""
    assessments: list[AssessmentNote] = field(default_factory=list)
    published: list[int] = field(default_factory=list)
    """Tickets changed, to show on the staff boards once the transaction commits."""


class HandOff:
    """Decides hand-offs and words them; holds no state of its own."""

    def __init__(
        self,
        screens: HandoffScreens,
        signals: SignalSource,
        office: OfficeHours | None,
        answer_minutes: int,
    ) -> None:
        self.screens = screens
        self._signals = signals
        self._office = office
        self._answer_minutes = answer_minutes

    def danger_in(self, text: str) -> DangerCategory | None:
        return self._signals.signals.danger_in(text)

    def asks_for_person(self, text: str) -> bool:
        return self._signals.signals.asks_for_person(text)

    def request(
        self,
        person: PersonRecord,
        language: str,
        intent: TicketIntent,
        effects: EventEffects,
        *,
        with_request: bool = False,
    ) -> list[Reply]:
        """Open a ticket now if the case is described, else ask for a description first."""
        needed = ENOUGH_WORDS_WITH_REQUEST if with_request else ENOUGH_WORDS
        if intent.priority or len(words(intent.summary or "")) >= needed:
            effects.open = intent
            person.state.awaiting_summary = None
            person.state.last_question = None
            person.state.unanswered = 0
            return []
        person.state.awaiting_summary = intent.reason.value
        return [self.screens.ask_summary(language)]

    def on_summary(
        self, person: PersonRecord, language: str, text: str, effects: EventEffects
    ) -> list[Reply]:
        """The person's description of their case, asked for before opening the ticket."""
        if len(words(text)) < ENOUGH_WORDS - 1:
            return [self.screens.summary_too_short(language)]
        reason = TicketReason(person.state.awaiting_summary or TicketReason.ASKED)
        return self.request(person, language, TicketIntent(reason, text), effects)

    def on_danger(
        self,
        person: PersonRecord,
        language: str,
        text: str,
        danger: DangerCategory,
        effects: EventEffects,
    ) -> list[Reply]:
        """Numbers first; then a priority ticket, or a higher priority for the open one."""
        replies = [self.screens.danger(language, danger.replies[language])]
        if person.ticket is not None:
            effects.line = text
            effects.raise_priority = True
            return replies
        return replies + self.request(
            person, language, TicketIntent(TicketReason.DANGER, text), effects
        )

    def after_unanswered(self, person: PersonRecord, language: str, text: str) -> list[Reply]:
        """Count a question the bot could not answer; offer a person at the second."""
        person.state.unanswered += 1
        person.state.last_question = text
        if person.state.unanswered >= OFFER_AFTER_UNANSWERED:
            return [self.screens.offer_person(language)]
        return []

    def on_offer(
        self, person: PersonRecord, language: str, accepted: bool, effects: EventEffects
    ) -> list[Reply]:
        if not accepted:
            person.state.awaiting_summary = None
            person.state.last_question = None
            person.state.unanswered = 0
            return [self.screens.declined(language)]
        intent = TicketIntent(TicketReason.UNANSWERED, person.state.last_question)
        return self.request(person, language, intent, effects)

    def cancel(self, person: PersonRecord, language: str, effects: EventEffects) -> list[Reply]:
        """/cancel: close the open ticket (the engine words it), or drop a pending request."""
        if person.ticket is not None:
            effects.cancel = True
            return []
        if person.state.awaiting_summary is not None:
            person.state.awaiting_summary = None
            return [self.screens.declined(language)]
        return [self.screens.nothing_to_cancel(language)]

    def opened(self, language: str, number: int, now: datetime) -> Reply:
        back_at = None
        if self._office is not None and not self._office.is_open(now):
            back_at = self._office.next_opening(now)
        return self.screens.opened(language, number, back_at, self._answer_minutes)

    async def apply(
        self,
        conversation: Conversation,
        person: PersonRecord,
        inbound: Inbound,
        *,
        language: str,
        effects: EventEffects,
        screens: Screens,
        search: Callable[[str], list[Match]],
    ) -> list[Reply]:
        """Write what the event does to tickets; returns the replies that need the result
        (the new ticket's number, whether a rating was accepted)."""
        now, replies = inbound.received_at, []
        if effects.rate is not None:
            number, positive = effects.rate
            outcome = await conversation.rate_ticket(number, person.key)
            if outcome is RatingOutcome.RATED:
                effects.assessments.append(AssessmentNote(positive, "ticket", None))
                replies.append(screens.thanks_for_rating(language))
            elif outcome is RatingOutcome.ALREADY_RATED:
                replies.append(screens.already_rated(language))
            else:
                replies += [screens.stale_option(language), screens.main_menu(language)]
        if person.ticket is not None:
            number = person.ticket
            if effects.line is not None:
                line = TicketLine(now, Author.PERSON, effects.line)
                await conversation.add_ticket_line(number, line)
                effects.published.append(number)
            if effects.raise_priority:
                await conversation.raise_ticket_priority(number, now)
            if effects.cancel:
                await conversation.close_own_ticket(number, now)
                person.ticket = None
                effects.published.append(number)
                replies += [self.screens.cancelled(language, number), screens.main_menu(language)]
        elif effects.open is not None:
            intent = effects.open
            ticket = NewTicket(
                person_key=person.key,
                channel=inbound.channel,
                address=inbound.address or inbound.user_id,
                language=language,
                priority=intent.priority,
                reason=intent.reason,
                topics=intent.topics
                or tuple(match.topic_id for match in search(intent.summary or "")[:3]),
                first_line=intent.summary,
            )
            person.ticket = await conversation.open_ticket(ticket, now)
            effects.published.append(person.ticket)
            replies.append(self.opened(language, person.ticket, now))
        return replies

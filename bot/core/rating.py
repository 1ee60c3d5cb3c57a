"""A person's 👍/👎: under a knowledge answer (once per answer shown) or after a ticket."""

from __future__ import annotations

from bot.core.handoff import EventEffects
from bot.core.knowledge import KnowledgeBase
from bot.core.messages import Reply
from bot.core.ports import AssessmentNote, PersonRecord
from bot.core.screens import Screens
from bot.core.tickets import MAX_TICKET_NUMBER
from bot.core.typed import bounded_number


def rate(
    screens: Screens,
    knowledge: KnowledgeBase,
    *,
    person: PersonRecord,
    language: str,
    value: str,
    effects: EventEffects,
) -> list[Reply]:
    """Take the vote in ``value`` ("up:docs.pesel", "down:ticket:42"); refuse a stale or
    forged one, and a second vote for the same answer."""
    verdict, _, topic_id = value.partition(":")
    kind, _, number = topic_id.partition(":")
    if verdict in ("up", "down") and kind == "ticket" and _ticket_number(number):
        effects.rate = (int(number), verdict == "up")
        return []
    if verdict not in ("up", "down") or knowledge.topic(topic_id) is None:
        return [screens.stale_option(language), screens.main_menu(language)]
    if topic_id in person.state.rated:
        return [screens.already_rated(language)]
    person.state.rated = [*person.state.rated[-19:], topic_id]
    effects.assessments.append(AssessmentNote(verdict == "up", "answer", topic_id))
    return [screens.thanks_for_rating(language)]


def _ticket_number(text: str) -> bool:
    """Whether a button's text can be a ticket's number (a forged one may be anything)."""
    number = bounded_number(text, MAX_TICKET_NUMBER + 1)
    return number is not None and number <= MAX_TICKET_NUMBER

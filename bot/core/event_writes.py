"""What an event writes once its replies are decided, in the event's own transaction."""

from __future__ import annotations

from datetime import datetime

from bot.core.handoff import EventEffects
from bot.core.messages import Inbound, Reply
from bot.core.ports import ContactNote, Conversation, PersonRecord


async def write_outcome(
    conversation: Conversation,
    person: PersonRecord,
    inbound: Inbound,
    replies: list[Reply],
    *,
    effects: EventEffects,
    now: datetime,
) -> None:
    """The person's state, the contact and its counts, the person's assessments, and the
    replies, held until the adapter has delivered them."""
    options = next((reply.options for reply in reversed(replies) if reply.options), ())
    person.state.last_options = [[option.id, option.label] for option in options]
    answered = tuple(reply.topic_id for reply in replies if reply.topic_id)
    # A topic answered again may be rated again: one vote per answer shown.
    person.state.rated = [topic for topic in person.state.rated if topic not in answered]
    await conversation.save_person(person, now)
    note = ContactNote(person.language, answered, handed_off=effects.open is not None)
    await conversation.record_contact(person.key, inbound.channel, note, now)
    for assessment in effects.assessments:
        await conversation.record_assessment(assessment, now)
    if inbound.address is not None and replies:
        await conversation.hold_replies(inbound.address, replies)

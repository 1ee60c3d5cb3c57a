"""What the dialogue engine needs from the outside world, as small Protocols."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.core.messages import Reply
from bot.core.tickets import NewTicket, RatingOutcome, TicketLine

Address = tuple[str, str]
"""(channel, chat or room id): where an event's replies go."""


@dataclass(slots=True)
class ConversationState:
    """Where a person is in the dialogue; kept between their messages."""

    step: str = "new"
    pending_text: str | None = None
    """A first question asked before the language was settled, answered once it is."""
    last_options: list[list[str]] = field(default_factory=list)
    """[id, label] of the options offered last, so a typed number or label selects one."""
    rated: list[str] = field(default_factory=list)
    """Topics whose last shown answer the person already rated: one vote per answer."""
    unanswered: int = 0
    """Questions in a row the bot could not answer; at two it offers a person."""
    last_question: str | None = None
    """The last question the bot could not answer, kept only to hand it to staff."""
    awaiting_summary: str | None = None
    """The reason of a hand-off waiting for the person to describe their case."""


@dataclass(frozen=True, slots=True)
class ContactNote:
    """What one event adds to the person's current contact (no message text)."""

    language: str | None
    answered_topics: tuple[str, ...] = ()
    """Topics whose knowledge answer this event delivered; any makes the person helped."""
    handed_off: bool = False
    """A ticket for staff was opened."""
    staff_helped: bool = False
    """A staff member's reply reached the person; it makes them helped."""

    @property
    def helped(self) -> bool:
        return bool(self.answered_topics) or self.staff_helped


@dataclass(frozen=True, slots=True)
class AssessmentNote:
    """A 👍 or 👎 the person gave."""

    positive: bool
    subject: str
    """"answer" (a knowledge answer) or "ticket" (staff help)."""
    topic_id: str | None = None


@dataclass(slots=True)
class PersonRecord:
    """What the bot keeps about a person: the minimum to talk to them again."""

    key: str
    """Pseudonym: a keyed hash of channel and platform id, never the id itself."""
    language: str | None
    state: ConversationState
    language_explicit: bool = False
    """True when the person chose the language; False when the bot inferred it."""
    erased: bool = False
    """Set when the person confirmed /forget: their record goes, nothing new is written."""
    ticket: int | None = None
    """The person's open ticket: while it is open, what they write goes to staff."""


class Conversation(Protocol):
    """One unit of work: everything one inbound event reads and writes, in one transaction."""

    async def claim_and_load(
        self, channel: str, event_id: str, key: str, now: datetime
    ) -> PersonRecord | None:
        """Record the event as processed and load the person with this pseudonym, created
        on first contact; None when the event was processed before (a redelivery)."""
        ...

    async def hold_replies(self, address: str, replies: Sequence[Reply]) -> None:
        """Keep the claimed event's replies with it until the adapter settles them, so a
        crash between this commit and their delivery does not lose them."""
        ...

    async def save_person(self, person: PersonRecord, now: datetime) -> None:
        """Persist the person's language and conversation state."""
        ...

    async def record_contact(
        self, key: str, channel: str, note: ContactNote, now: datetime
    ) -> None:
        """Extend the person's current contact, or start one after a long enough gap."""
        ...

    async def record_assessment(self, note: AssessmentNote, now: datetime) -> None:
        """Store a 👍/👎 (not linked to the person)."""
        ...

    async def erase_person(self, key: str, now: datetime, address: Address | None) -> None:
        """Delete the person's record and state; unlink their contacts and tickets from them
        for good, and drop what they wrote to staff and the replies still held for delivery
        to ``address`` (the chat's platform id, and what the bot said there)."""
        ...

    async def open_ticket(self, ticket: NewTicket, now: datetime) -> int:
        """Store a new ticket (with the person's description) and return its number."""
        ...

    async def add_ticket_line(self, number: int, line: TicketLine) -> None: ...

    async def raise_ticket_priority(self, number: int, now: datetime) -> None: ...

    async def close_own_ticket(self, number: int, now: datetime) -> None:
        """The person closed their ticket (/cancel)."""
        ...

    async def rate_ticket(self, number: int, key: str) -> RatingOutcome:
        """Accept the person's one 👍/👎 for their own ticket once staff closed it."""
        ...


class ConversationStore(Protocol):
    """Opens a unit of work; commits when the block ends normally, rolls back otherwise."""

    def begin(self) -> AbstractAsyncContextManager[Conversation]: ...

    def is_outage(self, error: BaseException) -> bool:
        """Whether ``error`` means the store is briefly unreachable, so the event may be
        tried again; anything else is a bug, not worth repeating."""
        ...


class Pseudonymiser(Protocol):
    """Turns a channel and platform id into the key stored instead of the id."""

    def __call__(self, channel: str, user_id: str) -> str: ...


@dataclass(frozen=True, slots=True)
class ReportFile:
    """A report ready to send: a short summary and the workbook."""

    summary: str
    filename: str
    content: bytes


class ReportDesk(Protocol):
    """The coordinator's reports, for the /report command."""

    def is_coordinator(self, channel: str, user_id: str) -> bool:
        """Whether this platform user may receive reports."""
        ...

    async def monthly(self, month: str | None, language: str, now: datetime) -> ReportFile:
        """The report for ``month`` (YYYY-MM; the last complete month when None).

        Raises ValueError with a message for the person when the month is not valid.
        """
        ...

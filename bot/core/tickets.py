"""Tickets: cases handed from the bot to Information Point staff, as the core sees them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from bot.core.messages import Reply

MAX_TICKET_NUMBER = 2**31 - 1
"""Larger numbers (typed or forged) name no ticket, and would overflow the database's
integers."""


class TicketReason(StrEnum):
    """Why a ticket was opened."""

    ASKED = "asked"
    """The person asked for a person (button, /human, or in words)."""
    UNANSWERED = "unanswered"
    """The bot could not answer twice in a row and the person accepted the offer."""
    POLICY = "policy"
    """The topic is one a person must handle (its hand-off policy is ``always``)."""
    DANGER = "danger"


class Author(StrEnum):
    PERSON = "person"
    STAFF = "staff"
    BOT = "bot"


class Delivery(StrEnum):
    """What became of a staff reply on its way to the person."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class TakeOutcome(StrEnum):
    TAKEN = "taken"
    ALREADY_YOURS = "already_yours"
    TAKEN_BY_OTHER = "taken_by_other"
    NOT_OPEN = "not_open"
    NOT_FOUND = "not_found"


class RatingOutcome(StrEnum):
    """What became of a person's 👍/👎 for a ticket."""

    RATED = "rated"
    ALREADY_RATED = "already_rated"
    NOT_RATEABLE = "not_rateable"
    """Not the person's own closed ticket: a stale or forged button."""


@dataclass(frozen=True, slots=True)
class StaffMember:
    """Someone acting on a staff board: ``id`` is channel:platform id, ``name`` for cards."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class TicketLine:
    """One message of a ticket's conversation."""

    at: datetime
    author: Author
    text: str
    staff_name: str | None = None
    delivery: Delivery | None = None
    failure: str | None = None


@dataclass(frozen=True, slots=True)
class NewTicket:
    """What the dialogue knows when it opens a ticket."""

    person_key: str
    channel: str
    address: str
    """Where the person's answers go (their chat); never shown on a card."""
    language: str
    priority: bool
    reason: TicketReason
    topics: tuple[str, ...]
    first_line: str | None
    """The person's own description of their case."""


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket as staff see it (no platform id, no username)."""

    number: int
    channel: str
    language: str
    priority: bool
    reason: TicketReason
    topics: tuple[str, ...]
    open: bool
    opened_at: datetime
    assignee: StaffMember | None
    closed_by: str | None
    unreachable: bool
    lines: tuple[TicketLine, ...] = ()
    earlier: tuple[int, ...] = ()
    """The same person's other tickets, newest first."""


def card_digest(ticket: TicketView) -> str:
    """A fingerprint of everything a card can show of ``ticket`` (all but the moment it is
    shown at): equal fingerprints, an equal card."""
    return hashlib.sha256(repr(ticket).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ShownCard:
    """What a ticket's card on a board showed when it was last brought up to date."""

    digest: str | None
    """``card_digest`` of the ticket as shown; None when that was never noted."""
    lines: int | None
    """How many messages the ticket had then; the person's later ones were never posted
    under the card. None when that was never noted."""


def not_yet_posted(ticket: TicketView, shown: ShownCard) -> tuple[TicketLine, ...]:
    """The person's messages that came after what a card last showed: to post under it."""
    if shown.lines is None:
        return ()
    return tuple(line for line in ticket.lines[shown.lines :] if line.author is Author.PERSON)


@dataclass(frozen=True, slots=True)
class PersonAddress:
    """Where to reach the person of a ticket, and in which language."""

    channel: str
    address: str
    language: str


EventKey = tuple[str, str]
"""An inbound event as the network names it: (channel, event id)."""


class RepeatedEventError(Exception):
    """A staff message that was acted on before came again: redelivered after a restart, or
    tried again after an outage hid that its transaction had committed."""

    def __init__(self, event_id: str, line_id: int | None) -> None:
        super().__init__(event_id)
        self.line_id = line_id
        """The answer the message stored the first time round (None if it stored none)."""


class TicketStore(Protocol):
    """The staff side's reads and writes; each call is its own transaction."""

    async def view(self, number: int) -> TicketView | None: ...

    async def open_tickets(self) -> list[TicketView]:
        """Open tickets, priority first, then oldest first."""
        ...

    async def take(
        self, number: int, staff: StaffMember, now: datetime
    ) -> tuple[TakeOutcome, TicketView | None]:
        """Assign the ticket to ``staff`` unless someone has it: one atomic update."""
        ...

    async def release(self, number: int, staff: StaffMember) -> TicketView | None: ...

    async def close(self, number: int, now: datetime) -> TicketView | None:
        """Close an open ticket (None when it is not open); the person's messages go back to
        the bot, and their closing question is pending."""
        ...

    async def reopen(self, number: int, now: datetime) -> TicketView | int | None:
        """Reopen a closed ticket; the number of another open ticket of the same person
        when there is one (then nothing changes); None when there is no such closed ticket."""
        ...

    async def add_staff_reply(
        self,
        number: int,
        staff: StaffMember,
        text: str,
        now: datetime,
        event: EventKey | None = None,
    ) -> int | None:
        """Store a reply as pending and return its id (None when the ticket is not open);
        takes the ticket for ``staff`` when nobody has it. With the staff message's ``event``,
        raises RepeatedEventError when that message was stored before."""
        ...

    async def settle_delivery(
        self, line_id: int, failure: str | None, unreachable: bool, now: datetime
    ) -> None:
        """Mark a reply delivered (and its person helped), or failed with the reason."""
        ...

    async def pending_replies(self) -> list[tuple[int, int, str]]:
        """Replies stored but never settled (a crash in between): (line id, ticket, text)."""
        ...

    async def pending_reply(self, line_id: int) -> tuple[int, str] | None:
        """The ticket and text of one reply while it is pending; None once it is settled."""
        ...

    async def question_pending(self, number: int) -> bool:
        """Whether the person of a ticket staff closed is still to be asked "did we help?"."""
        ...

    async def pending_questions(self) -> list[int]:
        """Tickets staff closed whose question never went out (a crash in between)."""
        ...

    async def question_asked(self, number: int) -> None:
        """The closing question went out, or cannot go out: never to be sent again."""
        ...

    async def reopen_notice_pending(self, number: int) -> bool:
        """Whether the person of a ticket staff reopened is still to be told."""
        ...

    async def pending_reopen_notices(self) -> list[int]:
        """Tickets staff reopened whose notice never went out (a crash in between)."""
        ...

    async def reopen_notice_sent(self, number: int) -> None:
        """The reopening's notice went out, or cannot go out: never to be sent again."""
        ...

    async def address(self, number: int) -> PersonAddress | None: ...

    async def offer(self, number: int, options: list[list[str]], now: datetime) -> None:
        """Remember options shown to the ticket's person outside a reply to them (the rating
        question), so that typing an option's number answers it where there are no buttons."""
        ...

    async def due_reminders(
        self, now: datetime, waiting: float, urgent_every: float, office_open: bool
    ) -> list[TicketView]:
        """Untaken open tickets to remind staff of now (seconds); marks them reminded."""
        ...


class TicketBoard(Protocol):
    """Where staff see tickets: a Telegram group, a Matrix room."""

    async def publish(self, ticket: TicketView) -> None:
        """Bring the ticket's card up to date: post it or update it in place, post under it
        each of the person's messages it has not shown yet (so that staff are notified), and
        note what it shows now."""
        ...

    async def remind(self, tickets: list[TicketView]) -> None: ...

    async def notify(self, notice: Reply) -> None:
        """Post a message to staff that belongs to no ticket (a refused knowledge reload)."""
        ...

    async def maybe_behind(self) -> dict[int, ShownCard]:
        """What this board's cards that may be behind their tickets last showed: the cards of
        open tickets, and those last shown open."""
        ...


class PersonOutbox(Protocol):
    """Sends replies to a person outside a reply to their own event (staff answers)."""

    async def send(
        self, to: PersonAddress, replies: list[Reply], key: str | None = None
    ) -> DeliveryFailure | None:
        """None when delivered. ``key`` names the message for good (a staff answer): sent
        again under it after a crash, a network that takes such keys (Matrix) does not post
        it twice."""
        ...


@dataclass(frozen=True, slots=True)
class DeliveryFailure:
    """Why a message did not reach the person, in staff's words from the platform."""

    reason: str
    permanent: bool
    """The person blocked the bot or the chat is gone: retrying will not help."""


class TicketEvents(Protocol):
    """Told after a transaction that changed a ticket commits, to update the staff boards."""

    async def changed(self, number: int) -> None: ...

    async def remind(self, tickets: list[TicketView]) -> None:
        """Tell staff these tickets are still waiting for someone to take them."""
        ...

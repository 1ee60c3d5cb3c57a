"""The database schema as typed SQLAlchemy models; db/versions must produce exactly this."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base with one naming convention, so migrations name constraints alike."""

    # Every datetime column stores a time zone: months are cut in Europe/Warsaw time.
    type_annotation_map = {datetime: DateTime(timezone=True)}  # noqa: RUF012 - SQLAlchemy's API


Base.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Person(Base):
    """Someone who wrote to the bot, known only by a pseudonym."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    """HMAC-SHA256 of channel and platform id (hex); the platform id itself is never stored."""
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    language_explicit: Mapped[bool] = mapped_column(Boolean, server_default=false())
    """Chosen by the person (kept) rather than inferred from their messages (may follow them)."""
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]

    # The open contact, kept beside the person so that a message costs no lookup: it tells
    # whether a message starts a contact and which statistics it changes (see contacts.py).
    contact_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    contact_month: Mapped[str | None] = mapped_column(String(7))
    """YYYY-MM (Europe/Warsaw) in which the open contact started: the month it counts in."""
    contact_ended_at: Mapped[datetime | None]
    contact_answered: Mapped[bool] = mapped_column(Boolean, server_default=false())
    contact_handed_off: Mapped[bool] = mapped_column(Boolean, server_default=false())
    contact_helped: Mapped[bool] = mapped_column(Boolean, server_default=false())
    contact_topics: Mapped[list[str] | None] = mapped_column(JSON)
    reached_month: Mapped[str | None] = mapped_column(String(7))
    helped_month: Mapped[str | None] = mapped_column(String(7))
    helped_year: Mapped[int | None] = mapped_column(Integer)
    """The last month and year in which this person was reached and helped: they count once
    in each (see month_totals)."""
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    """The person's open ticket: while it is open, their messages go to staff."""


class ConversationStateRow(Base):
    """Where a person is in the dialogue, as a small JSON document."""

    __tablename__ = "conversation_states"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, object]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class ProcessedEvent(Base):
    """Events already handled, so a redelivered update is not answered twice."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("channel", "event_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(128))
    processed_at: Mapped[datetime] = mapped_column(index=True)
    address: Mapped[str | None] = mapped_column(String(255))
    """Where the replies go (the chat or room), kept only until they are delivered."""
    pending: Mapped[list[dict[str, object]] | None] = mapped_column(JSON)
    """The replies not yet delivered, stored with the event's changes so that a crash after the
    commit still answers the person; NULL once they are delivered."""
    staff_line: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    """For a staff answer: the ticket line it stored, so that the same message coming again
    (or its own retry after a COMMIT whose answer was lost) finds the answer it left."""


class Contact(Base):
    """One conversation: a person's events with gaps shorter than the contact gap.

    Keyed by the pseudonym, never the platform id. Erasure and retention replace
    ``person_key`` with a random key (one per person and year), so totals never change.
    """

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    person_key: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    """The language the person was first helped in, else the first one known."""
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime]
    answered: Mapped[bool] = mapped_column(Boolean, server_default=false())
    """The bot delivered at least one knowledge answer."""
    handed_off: Mapped[bool] = mapped_column(Boolean, server_default=false())
    """A ticket was opened for staff."""
    helped: Mapped[bool] = mapped_column(Boolean, server_default=false())
    """A knowledge answer or a staff reply reached the person: they count as a beneficiary."""
    topics: Mapped[list[str]] = mapped_column(JSON)
    """Ids of the topics answered, in order; no message text is kept."""


class MonthTotal(Base):
    """A month's counts (Europe/Warsaw) for one channel and language: the reports' roll-up.

    Added to with each message, in its transaction, from what the person's row remembers
    (their open contact, the last month they were reached and helped in, the last year they
    were helped in), so a person counts once a month and once a year without a distinct
    count over every contact. It holds no pseudonym: erasure and retention leave it alone.
    """

    __tablename__ = "month_totals"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    """YYYY-MM."""
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    """Of the first help in the month for beneficiaries, of the first message otherwise;
    empty when not known yet."""
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, default=0, server_default="0")
    """Which of ``ROLL_UP_SHARDS`` rows of the same total this is (readers sum them)."""
    contacts: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int] = mapped_column(Integer)
    """Contacts the bot answered in that were not handed off."""
    handed_off: Mapped[int] = mapped_column(Integer)
    reached: Mapped[int] = mapped_column(Integer)
    """People with a contact in the month, helped or not."""
    beneficiaries: Mapped[int] = mapped_column(Integer)
    new_beneficiaries: Mapped[int] = mapped_column(Integer)
    """Beneficiaries helped for the first time in the month's calendar year."""


ROLL_UP_SHARDS: Final = 16
"""Rows each roll-up total is spread over, by person. An upsert holds its row until its
transaction commits, and a commit waits for the disk: with one row per month and language,
every new contact waited for the commits of all the others in its language (and every
answer for those on its topic), so one slow flush held up every message behind it."""

MONTH_COUNTS: Final = (
    "contacts",
    "answered",
    "handed_off",
    "reached",
    "beneficiaries",
    "new_beneficiaries",
)
"""The additive columns of MonthTotal."""


class TopicMonth(Base):
    """How many contacts of a month (by start, Europe/Warsaw) were answered on a topic."""

    __tablename__ = "topic_months"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    topic_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, default=0, server_default="0")
    """As ``MonthTotal.shard``."""
    contacts: Mapped[int] = mapped_column(Integer)


class Assessment(Base):
    """A 👍 or 👎 on an answer (or, with hand-off, after a ticket)."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    positive: Mapped[bool] = mapped_column(Boolean)
    subject: Mapped[str] = mapped_column(String(16))
    """"answer" or "ticket"."""
    topic_id: Mapped[str | None] = mapped_column(String(64))


class KnowledgeVersion(Base):
    """A distinct knowledge-base content the bot loaded: each new one is a welcome-package
    update for the programme's indicator."""

    __tablename__ = "knowledge_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    loaded_at: Mapped[datetime]
    topics: Mapped[int] = mapped_column(Integer)


class ReportDelivery(Base):
    """A scheduled monthly report already delivered, so it is never sent twice."""

    __tablename__ = "report_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), unique=True)
    """YYYY-MM."""
    delivered_at: Mapped[datetime]


class Ticket(Base):
    """A case handed to Information Point staff; its number is the id, written ``#N``.

    Holds no platform id but ``address``, the chat the person's answers go to, which is
    needed while the case is open and cleared when it closes.
    """

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_status_priority", "status", "priority"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_key: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8))
    priority: Mapped[bool] = mapped_column(Boolean)
    """Danger: numbers shown, staff reminded at once and every few minutes."""
    reason: Mapped[str] = mapped_column(String(16))
    """asked, unanswered, policy or danger."""
    topics: Mapped[list[str]] = mapped_column(JSON)
    """The topics retrieval guessed, best first (for staff; no text)."""
    status: Mapped[str] = mapped_column(String(8))
    """open or closed."""
    assignee: Mapped[str | None] = mapped_column(String(64))
    """The staff member who took it, as channel:platform id of their staff account."""
    assignee_name: Mapped[str | None] = mapped_column(String(128))
    opened_at: Mapped[datetime]
    taken_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(8))
    """staff or person."""
    reminded_at: Mapped[datetime | None]
    unreachable: Mapped[bool] = mapped_column(Boolean, server_default=false())
    """A relay failed for good (the person blocked the bot, the chat is gone)."""
    rated: Mapped[bool] = mapped_column(Boolean, server_default=false())
    """The person answered "did we help?" for this ticket (once per closing)."""
    question_pending: Mapped[bool] = mapped_column(Boolean, server_default=false())
    """Staff closed it and the person is still to be asked "did we help?": set with the
    closing, so that a crash before the question went out sends it at the next start."""
    reopen_notice_pending: Mapped[bool] = mapped_column(Boolean, server_default=false())
    """Staff reopened it and the person is still to be told: set with the reopening, for the
    same reason. A closing clears it, as a reopening clears ``question_pending``."""


class TicketMessage(Base):
    """One line of a ticket's conversation: the person's, a staff member's, or the bot's."""

    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    author: Mapped[str] = mapped_column(String(8))
    """person, staff or bot."""
    staff_name: Mapped[str | None] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    delivery: Mapped[str | None] = mapped_column(String(16))
    """For staff replies: pending, delivered or failed."""
    failure: Mapped[str | None] = mapped_column(String(255))


class TicketCard(Base):
    """A message about a ticket on a staff board (its card, or a follow-up posted under it):
    a staff reply to any of them goes to that ticket."""

    __tablename__ = "ticket_cards"
    __table_args__ = (UniqueConstraint("board", "chat", "message"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    board: Mapped[str] = mapped_column(String(16))
    chat: Mapped[str] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(String(128))
    is_card: Mapped[bool] = mapped_column(Boolean)
    """The card itself (edited in place), not a follow-up."""
    # What the card showed when last brought up to date (cards only): a crash between a
    # ticket's change and its card's, or a board that was down, leaves the card behind.
    shown_digest: Mapped[str | None] = mapped_column(String(64))
    """card_digest of the ticket as shown; None before it was first noted."""
    shown_lines: Mapped[int | None] = mapped_column(Integer)
    """How many messages the ticket had: the person's later ones were not posted under it."""
    shown_open: Mapped[bool | None] = mapped_column(Boolean)
    """Whether the card showed the ticket open (a closing it missed is still to show)."""


class AdapterCursor(Base):
    """Where a messenger adapter left off (the Matrix sync token), so a restart neither answers
    old messages again nor misses new ones."""

    __tablename__ = "adapter_cursors"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    """Whose cursor: e.g. "matrix:@bot:example.org:DEVICEID"."""
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]

"""The database schema as typed SQLAlchemy models; db/versions must produce exactly this."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
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
    contact_helped: Mapped[bool] = mapped_column(Boolean, server_default=false())
    contact_topics: Mapped[list[str] | None] = mapped_column(JSON)
    helped_year: Mapped[int | None] = mapped_column(Integer)
    """The last year in which this person was helped: their first help in a year is "new"."""


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


class PersonMonth(Base):
    """A person reached in a month (Europe/Warsaw), with what they got: the reports' roll-up.

    Written with the contact it summarises, in the same transaction, so that a yearly report
    reads about one row per person and month instead of every contact. Re-keyed with the
    contacts on erasure and retention.
    """

    __tablename__ = "person_months"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    """YYYY-MM."""
    person_key: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    """The language of the first contact that helped them in the month (else the first)."""
    contacts: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int] = mapped_column(Integer)
    """Contacts in which the bot answered and no ticket was opened."""
    handed_off: Mapped[int] = mapped_column(Integer)
    helped: Mapped[bool] = mapped_column(Boolean)
    new_in_year: Mapped[bool] = mapped_column(Boolean)
    """This month holds the person's first help in its calendar year."""


class TopicMonth(Base):
    """How many contacts of a month (by start, Europe/Warsaw) were answered on a topic."""

    __tablename__ = "topic_months"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    topic_id: Mapped[str] = mapped_column(String(64), primary_key=True)
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

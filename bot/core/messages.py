"""Neutral messages that cross between the adapters and the dialogue engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Channel(StrEnum):
    """Where a person writes from; part of their pseudonym and of the statistics."""

    TELEGRAM = "telegram"
    MATRIX = "matrix"
    CONSOLE = "console"


class Unreadable(StrEnum):
    """Why the bot could not read what a person sent."""

    ENCRYPTED = "encrypted"
    """An end-to-end encrypted message whose key the person's app did not share with us."""
    PICTURE_OR_FILE = "picture_or_file"
    """A photo or a document: often of an official paper, which staff can look at."""
    NOT_TEXT = "not_text"
    """A sticker, voice note, video, location, contact, poll, or anything else not text."""


@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing a person did: wrote text (commands included) or pressed an option."""

    channel: Channel
    user_id: str
    """The platform's id of the person; turned into a pseudonym before it is stored."""
    event_id: str
    """The platform's id of this event, so a redelivered event is handled once."""
    received_at: datetime
    text: str | None = None
    choice: str | None = None
    """The stable id of a pressed option, e.g. ``lang:uk`` or ``topic:docs.pesel``."""
    language_hint: str | None = None
    """The platform's guess at the person's language (Telegram's language_code)."""
    address: str | None = None
    """Where staff answers reach the person (their chat or room); ``user_id`` when None."""
    unreadable: Unreadable | None = None
    """Set when the person sent something the bot could not read; text and choice are None."""


@dataclass(frozen=True, slots=True)
class Option:
    """A button (Telegram) or numbered choice (console, Matrix) under a reply."""

    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Link:
    """A source shown under an answer; adapters render it as a hyperlink."""

    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a reply (the coordinator's XLSX report)."""

    filename: str
    content: bytes
    media_type: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to the person, already in their language, free of any markup.

    Adapters escape and format every field; nothing in here is trusted as markup.
    """

    text: str
    language: str
    title: str | None = None
    links: tuple[Link, ...] = ()
    options: tuple[Option, ...] = field(default=())
    topic_id: str | None = None
    """Set on a knowledge answer: the topic delivered (for the beneficiary count)."""
    attachment: Attachment | None = None

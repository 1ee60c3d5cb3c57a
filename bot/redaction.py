"""Secrets out of the logs: each configured secret, a bot token in a Bot API URL, a password in
any URL and an access token in a query string become ``***`` before a log line is written."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus, unquote

from pydantic import BaseModel, SecretStr

if TYPE_CHECKING:
    from bot.settings import Settings

MASK = "***"

# Found by shape, so that they are masked even when they are not in the settings.
_BOT_API_TOKEN = re.compile(r"(?<=/bot)\d+:[\w-]+")
"""A token in a Bot API URL: ".../bot123456:AA.../getUpdates", ".../file/bot.../x"."""
_URL_PASSWORD_IN_TEXT = re.compile(r"(?<=://)(?P<user>[^:/?#@\s]*):[^@/\s]*(?=@)")
"""A password in a URL within text: "postgresql+asyncpg://user:PASSWORD@host/db"."""
_OTHER_TOKENS = (
    re.compile(r"(?<=[?&]access_token=)[^&#\s\"']+"),
    re.compile(r"(?<=Bearer )[\w.~+/=-]+"),
)
"""An access token in a query string (as some Matrix clients send it) and a bearer token
(like the one a Matrix password login yields, which no setting holds)."""
_URL_PASSWORD = re.compile(r"^(?P<user>[\w+]+://[^:/]*):(?P<password>[^@]*)@")
"""The password of one whole URL, read as SQLAlchemy reads it: up to the first "@"."""
_USER_AND_MASK = r"\g<user>:" + MASK
_TRACEBACKS = logging.Formatter()
"""Renders tracebacks exactly as a default formatter would, before they are masked."""


def mask_url(url: str) -> str:
    """The URL with its password, if any, replaced by ``***``."""
    return _URL_PASSWORD.sub(_USER_AND_MASK + "@", url)


def url_passwords(url: str) -> list[str]:
    """The password in a URL as written there and decoded; none when it has none."""
    found = _URL_PASSWORD.match(url)
    if found is None:
        return []
    written = found.group("password")
    return [written, unquote(written)]


def secret_values(settings: Settings) -> list[str]:
    """Every secret the settings hold: each SecretStr, and the database URL's password."""
    values: list[str] = []

    def collect(model: BaseModel) -> None:
        for name in type(model).model_fields:
            value = getattr(model, name)
            if isinstance(value, SecretStr):
                values.append(value.get_secret_value())
            elif isinstance(value, BaseModel):
                collect(value)

    collect(settings)
    values.extend(url_passwords(settings.database.url))
    return values


class Redactor:
    """Replaces the given secrets (also URL-encoded) and the shapes above with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Blank values are skipped: masking "" or " " would mangle every line. Short ones are
        # kept; a weak secret is still a secret.
        variants = {
            variant
            for secret in secrets
            if secret.strip()
            for variant in (secret, quote(secret, safe=""), quote(secret), quote_plus(secret))
        }
        # Longest first, so that a secret containing another is masked whole.
        ordered = sorted(variants, key=len, reverse=True)
        self._literals = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __call__(self, text: str) -> str:
        if self._literals is not None:
            text = self._literals.sub(MASK, text)
        text = _BOT_API_TOKEN.sub(MASK, text)
        text = _URL_PASSWORD_IN_TEXT.sub(_USER_AND_MASK, text)
        for shape in _OTHER_TOKENS:
            text = shape.sub(MASK, text)
        return text


class RedactingFilter(logging.Filter):
    """Renders a record's message, traceback and stack with the secrets masked.

    The record is changed in place, so every handler after this filter's, and the formatter,
    see only masked text; the message's arguments are folded in, since one of them (an httpx
    URL, an exception) may carry a secret.
    """

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the line
            message = f"{record.msg} {record.args!r}"
        record.msg = self._redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True


def mask_secrets(handlers: Iterable[logging.Handler], redact: Redactor) -> None:
    """Put one RedactingFilter with ``redact`` on each handler, replacing an earlier one."""
    for handler in handlers:
        for old in [each for each in handler.filters if isinstance(each, RedactingFilter)]:
            handler.removeFilter(old)
        handler.addFilter(RedactingFilter(redact))

"""Settings from INFOPOINT_* environment variables and .env, validated once at start-up."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.office_hours import parse_weekly_hours
from bot.redaction import mask_url

ENV_PREFIX = "INFOPOINT_"
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class SettingsError(Exception):
    """A setting is missing or wrong; the message names the variable in one line."""


class _Section(BaseModel):
    """One adapter's or service's settings."""

    # A validation error would otherwise quote the rejected value: a bad secret, in full.
    model_config = ConfigDict(hide_input_in_errors=True)


class DatabaseSettings(_Section):
    """INFOPOINT_DATABASE__*"""

    url: str = "sqlite:///var/infopoint.db"
    """SQLAlchemy URL; SQLite under var/ by default, PostgreSQL in production."""

    def __repr_args__(self) -> Iterator[tuple[str | None, object]]:
        # repr() and str() of the settings show the URL without its password.
        for name, value in super().__repr_args__():
            yield name, mask_url(self.url) if name == "url" else value


class TelegramSettings(_Section):
    """INFOPOINT_TELEGRAM__*; the adapter starts only when a token is set."""

    token: SecretStr | None = None
    base_url: str | None = None
    """Bot API base, e.g. a self-hosted server's "http://127.0.0.1:8081/bot"."""
    base_file_url: str | None = None
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    """The public HTTPS address Telegram posts updates to (webhook mode)."""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_path: str = "telegram"
    webhook_secret: SecretStr | None = None
    staff_chat_id: int | None = None
    """The Telegram group where staff see ticket cards and answer; its members are staff."""
    staff_ids: Annotated[list[int], NoDecode] = []
    """Telegram user ids of staff outside the group's member list (comma-separated)."""
    coordinator_ids: Annotated[list[int], NoDecode] = []
    """Telegram user ids of the programme coordinators (comma-separated): /report and the
    monthly report."""
    rate_limit: bool = True
    """Keep to Telegram's sending limits (about 30 messages a second in all, 20 a minute in a
    group). Off only against a local test server, where there are none to keep."""
    http_backend: Literal["aiohttp", "httpx"] = "aiohttp"
    """How requests reach the Bot API: our aiohttp backend, or PTB's default (httpx)."""

    @field_validator("coordinator_ids", "staff_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_format(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET.match(value.get_secret_value()):
            raise ValueError("use 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _webhook_needs_url_and_secret(self) -> TelegramSettings:
        if self.token is not None and self.mode == "webhook":
            if not self.webhook_url:
                raise ValueError("WEBHOOK_URL: required when MODE is webhook")
            if self.webhook_secret is None:
                raise ValueError("WEBHOOK_SECRET: required when MODE is webhook")
        return self

    @property
    def enabled(self) -> bool:
        return self.token is not None


class MatrixSettings(_Section):
    """INFOPOINT_MATRIX__*; the adapter starts when a homeserver and a user id are set."""

    homeserver: str | None = None
    """The homeserver's client API address, e.g. "https://matrix.example.org"."""
    user_id: str | None = None
    """The bot's account, e.g. "@infopoint:example.org"."""
    password: SecretStr | None = None
    """Used once, to log in and create the bot's device; the session is kept in var/matrix."""
    access_token: SecretStr | None = None
    """Instead of a password: a token of a device created for the bot."""
    device_name: str = "infopoint"
    staff_room_id: str | None = None
    """The room where staff see ticket cards and answer ("!abc:example.org")."""
    staff_power_level: int = 0
    """Members of the staff room with at least this power level are staff."""
    staff_ids: Annotated[list[str], NoDecode] = []
    """Matrix user ids of staff regardless of their power level (comma-separated)."""
    sync_timeout_seconds: int = Field(default=30, ge=1, le=300)
    """How long one long-poll sync waits for new events."""

    @field_validator("staff_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _complete(self) -> MatrixSettings:
        if self.homeserver is None:
            return self
        if not self.user_id:
            raise ValueError("USER_ID: required when HOMESERVER is set")
        if self.password is None and self.access_token is None:
            raise ValueError("PASSWORD: set a password or an ACCESS_TOKEN")
        return self

    @property
    def enabled(self) -> bool:
        return self.homeserver is not None


class Settings(BaseSettings):
    """Everything the bot can be configured with; .env.example documents each setting."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,
    )

    database: DatabaseSettings = DatabaseSettings()
    telegram: TelegramSettings = TelegramSettings()
    matrix: MatrixSettings = MatrixSettings()
    default_language: Literal["pl", "en", "uk", "ru"] = "en"
    timezone: str = "Europe/Warsaw"
    var_dir: Path = Path("var")
    """Where the bot keeps its files: the SQLite database, the pseudonym key."""
    knowledge_dir: Path | None = None
    """Knowledge YAML folder; the one shipped with the bot when unset."""
    knowledge_reload_seconds: int = Field(default=300, ge=0)
    """How often to look for changed knowledge files; 0: only on SIGHUP."""
    pseudonym_key: SecretStr | None = None
    """Hex key for pseudonyms; generated into var/pseudonym.key on first start if unset."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    event_loop: Literal["uvloop", "asyncio"] = "uvloop"
    """uvloop spends less CPU per message; asyncio's own loop is the fallback."""
    contact_gap_minutes: int = Field(default=30, ge=1)
    """Messages closer together than this are one contact (see "How we count")."""
    retention_days: int = Field(default=90, ge=1)
    """Message texts older than this are deleted by the daily retention job."""
    flood_messages_per_minute: int = Field(default=20, ge=1)
    """More messages than this from one person within a minute get one "slow down" notice;
    the rest of that minute's messages are dropped unread."""
    office_hours: str = "mon-fri 09:00-17:00"
    """When staff answer tickets, e.g. "mon-fri 09:00-17:00; sat 10:00-14:00" (local time);
    Polish public holidays are always off. Set it to the Point's real hours."""
    staff_answer_minutes: int = Field(default=30, ge=1)
    """What a person is told to expect in office hours: "usually within N minutes"."""
    staff_language: Literal["pl", "en", "uk", "ru"] = "pl"
    """The language of ticket cards and staff commands' answers."""
    reminder_minutes: int = Field(default=15, ge=1)
    """Untaken tickets are brought up again after this long, in office hours."""
    priority_reminder_minutes: int = Field(default=5, ge=1)
    """Untaken priority (danger) tickets are brought up this often, at any hour."""

    @field_validator("office_hours")
    @classmethod
    def _readable_hours(cls, value: str) -> str:
        parse_weekly_hours(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @field_validator("pseudonym_key")
    @classmethod
    def _hex_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                key = bytes.fromhex(value.get_secret_value())
            except ValueError as error:
                raise ValueError("must be hexadecimal") from error
            if len(key) < 16:
                raise ValueError("must be at least 16 bytes (32 hex digits)")
        return value


def load_settings(env_file: Path | None = Path(".env")) -> Settings:
    """Read and validate the settings; a problem becomes one SettingsError line."""
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None


def _describe(error: ValidationError) -> str:
    """``INFOPOINT_TELEGRAM__MODE: Input should be 'polling' or 'webhook'`` (first problem)."""
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        location = [str(part) for part in item["loc"]]
        message = str(item["msg"]).removeprefix("Value error, ")
        # A model-level check names the field itself, as "FIELD: message".
        if ": " in message and message.split(": ", 1)[0].isupper():
            field, message = message.split(": ", 1)
            location.append(field)
        variable = ENV_PREFIX + "__".join(part.upper() for part in location)
        problems.append(f"{variable}: {message}")
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"invalid setting {problems[0]}{more}"

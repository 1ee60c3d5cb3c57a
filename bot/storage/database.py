"""Connecting to the database and bringing its schema up to date with Alembic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import URL, event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.resources import resource_dir
from bot.storage.liveness import discard_connections_the_server_closed

# Drivers used when a URL names none: the async engine needs an async driver, Alembic a
# sync one. psycopg 3 serves both.
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}
_SYNC_DRIVERS = {"sqlite+aiosqlite": "sqlite", "postgresql": "postgresql+psycopg"}
MESSAGE_CONNECTIONS = 40
"""Server connections for people's messages on PostgreSQL (driver_transactions.py): Telegram
handles 32 people at once, and Matrix's rooms come on top."""
ENGINE_POOL_SIZE = 10
ENGINE_MAX_OVERFLOW = 10
"""The engine's own pool, which on PostgreSQL serves staff, jobs, reports and the settling of
delivered replies, not messages. With the message connections, 60 at most: PostgreSQL's
default limit is 100, 97 of them for roles that are not superusers, and migrations, backups
and an administrator's psql need some too."""


def async_url(url: str) -> URL:
    """The URL with an async driver ("sqlite:///x" -> "sqlite+aiosqlite:///x")."""
    parsed = make_url(url)
    return parsed.set(drivername=_ASYNC_DRIVERS.get(parsed.drivername, parsed.drivername))


def sync_url(url: str) -> URL:
    """The URL with a sync driver, for Alembic."""
    parsed = make_url(url)
    return parsed.set(drivername=_SYNC_DRIVERS.get(parsed.drivername, parsed.drivername))


def ensure_sqlite_folder(url: str) -> None:
    """Create the folder of a SQLite file, so a fresh checkout starts without set-up."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str) -> AsyncEngine:
    """The application's async engine."""
    ensure_sqlite_folder(url)
    parsed = async_url(url)
    if parsed.get_backend_name() == "sqlite":
        # No pre-ping: no server can close a SQLite file's connection.
        # SQLite keeps JSON as text: a serializer's bytes would be stored as a blob.
        engine = create_async_engine(
            parsed, json_serializer=_json_text, json_deserializer=orjson.loads
        )
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
        return engine
    # orjson for the JSON columns (a person's state and options, stored replies): the
    # standard library's encoder and decoder were a tenth of the dialogue's CPU. psycopg
    # takes the bytes as they are.
    engine = create_async_engine(
        parsed,
        pool_size=ENGINE_POOL_SIZE,
        max_overflow=ENGINE_MAX_OVERFLOW,
        json_serializer=orjson.dumps,
        json_deserializer=orjson.loads,
    )
    # Instead of pre-ping's round trip on every checkout: see liveness.py.
    discard_connections_the_server_closed(engine.sync_engine)
    return engine


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _tune_sqlite(connection: Any, _record: object) -> None:
    """Write-ahead logging with NORMAL sync: a commit costs no fsync of the main file, and
    readers do not wait for writers. A crash of the bot loses nothing committed; a power cut
    may lose the last commits, never the database's consistency. PostgreSQL is the choice
    where that matters."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def alembic_config(url: str) -> Config:
    """Alembic configured for ``url`` and the migrations shipped with the bot."""
    config = Config()
    config.set_main_option("script_location", str(resource_dir("db")))
    # ConfigParser interpolation would read "%" in a password as a reference.
    config.set_main_option(
        "sqlalchemy.url", sync_url(url).render_as_string(hide_password=False).replace("%", "%%")
    )
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision`` (blocking; run it off the event loop)."""
    ensure_sqlite_folder(url)
    command.upgrade(alembic_config(url), revision)

"""The migrations produce exactly the models' schema, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from bot.storage.database import alembic_config, sync_url, upgrade
from bot.storage.models import Base


def _schema_diff(url: str) -> list[object]:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(sync_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _check_round_trip(url: str) -> None:
    upgrade(url)
    assert _schema_diff(url) == []
    command.downgrade(alembic_config(url), "base")
    assert _tables(url) == {"alembic_version"}
    upgrade(url)
    assert _schema_diff(url) == []


def test_sqlite_schema_matches_the_models(tmp_path: Path) -> None:
    _check_round_trip(f"sqlite:///{tmp_path / 'schema.db'}")


@pytest.mark.postgres
def test_postgresql_schema_matches_the_models(postgres_url: str) -> None:
    _check_round_trip(postgres_url)


def test_upgrade_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twice.db'}"
    upgrade(url)
    upgrade(url)
    assert _schema_diff(url) == []

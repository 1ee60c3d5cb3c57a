"""Counting the statements psycopg is given, for tests and for bench/engine_cpu.py.

On PostgreSQL that is every statement: SQLAlchemy's, and those psycopg runs itself for the
hot path (bot/storage/direct_sql.py), which SQLAlchemy's events do not see.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import psycopg


@contextlib.contextmanager
def counting_psycopg_statements(count: Callable[[str], None]) -> Iterator[None]:
    """Call ``count`` with the text of each statement psycopg is given inside the block."""
    execute = psycopg.AsyncCursor.execute

    async def counted(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        count(str(query))
        return await execute(self, query, *args, **kwargs)

    with mock.patch.object(psycopg.AsyncCursor, "execute", counted):
        yield

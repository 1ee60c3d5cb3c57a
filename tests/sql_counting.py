"""Counting the statements psycopg runs itself (bot/storage/direct_sql.py), which
SQLAlchemy's events do not see; for tests and for bench/engine_cpu.py."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import psycopg


@contextlib.contextmanager
def counting_direct_statements(count: Callable[[str], None]) -> Iterator[None]:
    """Call ``count`` with the text of each statement psycopg is given inside the block."""
    direct = psycopg.AsyncConnection.execute

    async def counted(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        count(str(query))
        return await direct(self, query, *args, **kwargs)

    with mock.patch.object(psycopg.AsyncConnection, "execute", counted):
        yield

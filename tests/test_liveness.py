"""A pooled PostgreSQL connection the server ended is replaced before use, and a healthy one
is handed out without a statement (no pre-ping round trip)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.database import create_engine
from tests.conftest import POSTGRES_URL
from tests.fakes.tcp_proxy import CuttableProxy

ADMIN_URL = POSTGRES_URL.replace("+psycopg", "")


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_url)
    yield engine
    await engine.dispose()


async def backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text("SELECT pg_backend_pid()")) or 0)


def terminate(pid: int) -> None:
    """End the server process behind one connection, as an administrator or a restart does,
    and wait until it is gone (its goodbye and the socket's close have then been sent)."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 10
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline, "the backend did not end"
            time.sleep(0.01)


async def test_a_connection_the_server_ended_is_replaced_at_checkout(
    engine: AsyncEngine,
) -> None:
    first = await backend_pid(engine)  # pooled, idle, now
    await asyncio.to_thread(terminate, first)
    # Without the check, this statement would go to the dead connection and fail.
    second = await backend_pid(engine)
    assert second not in (0, first)


async def test_connections_a_cut_network_closed_are_replaced_at_checkout(
    postgres_url: str,
) -> None:
    proxy = CuttableProxy("127.0.0.1", 5432)
    await proxy.start()
    engine = create_engine(postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"))
    try:
        async with engine.connect() as one, engine.connect() as two:  # two pooled connections
            for connection in (one, two):
                await connection.execute(text("SELECT 1"))
        proxy.cut()
        proxy.restore()
        await asyncio.sleep(0)  # the proxy's closing of both sockets reaches the client
        for _ in range(2):
            async with engine.connect() as connection:
                assert await connection.scalar(text("SELECT 1")) == 1
    finally:
        await engine.dispose()
        await proxy.stop()


async def test_a_healthy_pooled_connection_is_handed_out_without_a_statement(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await backend_pid(engine)

    def no_ping(_connection: object) -> bool:
        raise AssertionError("a statement was sent to check the connection")

    monkeypatch.setattr(engine.dialect, "do_ping", no_ping)
    assert await backend_pid(engine) == first

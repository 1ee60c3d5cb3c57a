"""The Matrix sync token is written in the background, in order, and a stop waits for it."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

import pytest

from bot.adapters.matrix.sync_token import TokenSaver


class HeldCursors:
    """Records writes; each waits until the test lets it through."""

    def __init__(self) -> None:
        self.written: list[str] = []
        self.in_flight = 0
        self.most_at_once = 0
        self.gate = asyncio.Event()
        self.fail_next = False

    async def put(self, name: str, value: str, now: datetime) -> None:
        assert name == "matrix:@bot:test:DEVICE"
        self.in_flight += 1
        self.most_at_once = max(self.most_at_once, self.in_flight)
        try:
            await self.gate.wait()
            if self.fail_next:
                self.fail_next = False
                raise ConnectionError("database gone")
            self.written.append(value)
        finally:
            self.in_flight -= 1


@pytest.fixture
def cursors() -> HeldCursors:
    return HeldCursors()


@pytest.fixture
def saver(cursors: HeldCursors) -> TokenSaver:
    return TokenSaver(cursors, "matrix:@bot:test:DEVICE")


async def test_tokens_are_written_one_at_a_time_in_order(
    cursors: HeldCursors, saver: TokenSaver
) -> None:
    await saver.save("s1")
    second = asyncio.create_task(saver.save("s2"))
    await asyncio.sleep(0)
    assert not second.done(), "the second write waits for the first"
    cursors.gate.set()
    await second
    await saver.save("s3")
    await saver.flush()
    assert cursors.written == ["s1", "s2", "s3"]
    assert cursors.most_at_once == 1


async def test_stopping_the_sync_loop_leaves_the_write_in_hand_for_flush(
    cursors: HeldCursors, saver: TokenSaver
) -> None:
    """The stop cancels the sync loop while it waits for the previous write; that write
    still ends, and flush waits for it rather than raising CancelledError."""
    await saver.save("s1")
    sync_loop = asyncio.create_task(saver.save("s2"))
    await asyncio.sleep(0)
    sync_loop.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sync_loop
    cursors.gate.set()
    await saver.flush()
    assert cursors.written == ["s1"]


async def test_a_failed_write_is_logged_and_the_next_token_is_saved(
    cursors: HeldCursors, saver: TokenSaver, caplog: pytest.LogCaptureFixture
) -> None:
    cursors.fail_next = True
    cursors.gate.set()
    await saver.save("s1")
    await saver.save("s2")
    await saver.flush()
    assert cursors.written == ["s2"]
    assert "could not save the sync token" in caplog.text

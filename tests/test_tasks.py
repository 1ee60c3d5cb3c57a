"""Stopping an adapter's background task: its own cancellation ends it quietly, its failure
is raised, and a cancellation of whoever is stopping it is not swallowed."""

from __future__ import annotations

import asyncio

import pytest

from bot.adapters.tasks import wait_ended


async def test_a_task_cancelled_to_stop_it_ends_quietly() -> None:
    task = asyncio.create_task(asyncio.Event().wait())
    await asyncio.sleep(0)
    task.cancel()
    await wait_ended(task)
    assert task.cancelled()


async def test_what_the_task_failed_with_is_raised() -> None:
    async def fail() -> None:
        raise LookupError("the token was refused")

    with pytest.raises(LookupError, match="refused"):
        await wait_ended(asyncio.create_task(fail()))


async def test_a_stop_that_is_itself_cancelled_says_so() -> None:
    """The polling task is finishing its batch; the stop's caller gives up waiting."""
    finish_batch = asyncio.Event()

    async def polling() -> None:
        await finish_batch.wait()

    task = asyncio.create_task(polling())
    stopping = asyncio.create_task(wait_ended(task))
    await asyncio.sleep(0)
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping
    assert not task.done()  # the batch in hand is not cut short by the caller's cancellation
    finish_batch.set()
    await wait_ended(task)

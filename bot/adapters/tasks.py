"""Waiting for an adapter's background task (polling, syncing) to end when it is stopped."""

from __future__ import annotations

import asyncio


async def wait_ended(task: asyncio.Task[None]) -> None:
    """Wait until ``task``, asked to stop (cancelled, or told to finish its work in hand),
    has ended; raise what it failed with, if anything.

    The task's own cancellation is how it ends, and is not raised. A cancellation of the
    caller is: ``with suppress(CancelledError): await task`` swallowed that one too, so a stop
    cut short (by a timeout, say) returned as if it had finished.
    """
    await asyncio.wait({task})
    if not task.cancelled() and (error := task.exception()) is not None:
        raise error

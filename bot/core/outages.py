"""Waiting out a briefly unavailable database instead of failing the person's message."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

OUTAGE_DELAYS: Final = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0)
"""Seconds between attempts: about half a minute in all, longer than a PostgreSQL restart and
short enough that the person is still there to be told to try again."""


class StorageUnavailableError(Exception):
    """The database stayed unreachable through every retry; nothing of the event was kept."""


async def through_outages(
    attempt: Callable[[], Awaitable[T]],
    is_outage: Callable[[BaseException], bool],
    delays: Sequence[float] = OUTAGE_DELAYS,
) -> T:
    """Run ``attempt`` (one whole transaction) again after each outage, as ``delays`` allow.

    Each attempt either commits whole or leaves nothing, so repeating it is safe.
    """
    for delay in delays:
        try:
            return await attempt()
        except Exception as error:
            if not is_outage(error):
                raise
            log.warning("database unavailable (%s); again in %.2f s", type(error).__name__, delay)
        await asyncio.sleep(delay)
    try:
        return await attempt()
    except Exception as error:
        if is_outage(error):
            raise StorageUnavailableError from error
        raise

"""The Matrix sync token, saved in the background while the next sync waits."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Protocol

log = logging.getLogger(__name__)


class CursorStore(Protocol):
    async def put(self, name: str, value: str, now: datetime) -> None: ...


class TokenSaver:
    """Writes each new token after the previous write ended, one write at a time.

    Saving late only means events come again after a restart (and are recognised by their
    ids), so the write need not hold up the next message. It must not be cut off either: a
    write cancelled with the sync loop would leave ``flush`` nothing to wait for and the
    database closed under it.
    """

    def __init__(self, cursors: CursorStore, name: str) -> None:
        self._cursors = cursors
        self._name = name
        self._writing: asyncio.Task[None] | None = None

    async def save(self, token: str) -> None:
        """Start writing ``token`` once the write before it has ended."""
        if self._writing is not None:
            # Shielded: cancelling the caller (the sync loop, on stop) must leave the write
            # running, for flush to wait for.
            await asyncio.shield(self._writing)
        self._writing = asyncio.create_task(self._write(token), name="matrix-sync-token")

    async def flush(self) -> None:
        """Wait for the last write (before the database it goes to is closed)."""
        if self._writing is not None:
            await asyncio.shield(self._writing)

    async def _write(self, token: str) -> None:
        try:
            await self._cursors.put(self._name, token, datetime.now(UTC))
        except Exception:
            log.exception("Matrix: could not save the sync token; it is saved after the next sync")

"""A local file that records delivered replies at once; the database learns of them in batches.

Marking each event's replies delivered in the database right after the send cost a
transaction per message, and left a window (the transaction's round trips) in which a
kill -9 made the next start send the replies again. A line appended to a file with
``os.write`` survives the death of the process as soon as the call returns, so the window
shrinks to the moment between Telegram's answer and that call, and the database is told in
one UPDATE per batch. At start the file is read back first, so nothing it names is sent
again; if the file is lost with its machine, replies may be sent twice, never lost.

An event whose replies are only partly delivered (the first of two went out) gets a line that
says how many are left. It stays in the file, not in the database, until the whole event is
delivered: a crash in between resends only what was left, and a partial delivery costs no
transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Final

import orjson

log = logging.getLogger(__name__)

FLUSH_AFTER_S: Final = 0.05
"""How long deliveries gather before one database UPDATE settles them all."""

Event = tuple[str, str]
"""(channel, event id) for a person's replies; ("staff-answer", line id) for staff answers."""
Settle = Callable[[Sequence[Event]], Awaitable[None]]


class DeliveryJournal:
    """Appends delivered events to ``path`` and settles them through ``settle`` in batches."""

    def __init__(self, path: Path, settle: Settle) -> None:
        self._path = path
        self._settle = settle
        self._fd: int | None = None
        self._waiting: list[Event] = []
        self._left: dict[Event, int] = {}
        """Events partly delivered, and how many of their replies (the last ones) are left."""
        self._flushing: asyncio.Task[None] | None = None

    async def recover(self) -> int:
        """Settle what the file names (a crash left it there), then empty it; returns how
        many events it named."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        named, left = _read(self._path)
        if named:
            await self._settle(named)
        self._left = left
        self._fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.ftruncate(self._fd, 0)
        self._write_partial()
        return len(named)

    @property
    def recording(self) -> bool:
        """Whether ``recover`` ran and the file is open for deliveries."""
        return self._fd is not None

    def delivered(self, channel: str, event_id: str) -> None:
        """Record the event's replies as delivered, durably before returning."""
        if self._fd is None:
            raise RuntimeError("DeliveryJournal.recover must run first")
        os.write(self._fd, _line((channel, event_id)))
        self._left.pop((channel, event_id), None)
        self._waiting.append((channel, event_id))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.get_running_loop().create_task(self._flush_soon())

    def partly_delivered(self, channel: str, event_id: str, left: int) -> None:
        """Record that all but the last ``left`` of the event's replies were delivered,
        durably before returning; the database is not told."""
        if self._fd is None:
            raise RuntimeError("DeliveryJournal.recover must run first")
        os.write(self._fd, _line((channel, event_id, left)))
        self._left[channel, event_id] = left

    def left(self, channel: str, event_id: str) -> int | None:
        """How many of a partly delivered event's replies are left; None if not recorded."""
        return self._left.get((channel, event_id))

    async def flush(self) -> None:
        """Settle in the database every delivery recorded so far."""
        if self._flushing is not None:
            with contextlib.suppress(Exception):
                await self._flushing
        await self._flush()

    async def close(self) -> None:
        """Settle what is waiting and close the file."""
        await self.flush()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    async def _flush_soon(self) -> None:
        # Deliveries made while a batch is being settled go in the next batch.
        while self._waiting:
            await asyncio.sleep(FLUSH_AFTER_S)
            if not await self._flush():
                return

    async def _flush(self) -> bool:
        batch, self._waiting = self._waiting, []
        if not batch:
            return True
        try:
            await self._settle(batch)
        except Exception:
            # Still in the file: the next delivery's flush or the next start settles them.
            log.warning("could not settle %d delivered events; will try again", len(batch))
            self._waiting = batch + self._waiting
            return False
        if self._fd is not None:
            # Keep only the lines not yet settled; no await between, so none is missed.
            os.ftruncate(self._fd, 0)
            if self._waiting:
                os.write(self._fd, b"".join(_line(event) for event in self._waiting))
            self._write_partial()
        return True

    def _write_partial(self) -> None:
        if self._fd is not None and self._left:
            lines = (_line((*event, left)) for event, left in self._left.items())
            os.write(self._fd, b"".join(lines))


async def open_journal(journal: DeliveryJournal | None, what: str) -> None:
    """Settle what ``journal`` noted before the last stop or crash (``what``: its lines, for
    the log), and start recording; nothing without a journal or when it records already."""
    if journal is not None and not journal.recording:
        recovered = await journal.recover()
        if recovered:
            log.info("%s noted before the last stop, now settled: %d", what, recovered)


async def close_journal(journal: DeliveryJournal | None) -> None:
    """Settle what is waiting and close the file, if there is one open."""
    if journal is not None and journal.recording:
        await journal.close()


def _line(fields: Event | tuple[str, str, int]) -> bytes:
    return orjson.dumps(fields) + b"\n"


def _read(path: Path) -> tuple[list[Event], dict[Event, int]]:
    """The events the file names as delivered, and those it names as partly delivered with
    how many replies each has left (the fewest recorded: deliveries only go forward)."""
    if not path.exists():
        return [], {}
    events: list[Event] = []
    left: dict[Event, int] = {}
    for line in path.read_bytes().splitlines():
        try:
            channel, event_id, *rest = orjson.loads(line)
            count = int(rest[0]) if rest else None
        except (ValueError, TypeError, IndexError):
            continue  # a line cut short by the crash: its event is sent again, not lost
        event = (str(channel), str(event_id))
        if count is None:
            events.append(event)
        else:
            left[event] = min(count, left.get(event, count))
    delivered = set(events)
    return events, {event: n for event, n in left.items() if event not in delivered}

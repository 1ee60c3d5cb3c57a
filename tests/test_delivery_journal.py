"""Deliveries recorded in the local journal are never sent again after a crash, and reach the
database in batches; a delivery the journal missed is sent again, never lost."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Core
from bot.core.messages import Channel, Inbound
from bot.storage.delivery_journal import DeliveryJournal
from bot.storage.pending_replies import SqlPendingReplies


async def answered(core: Core, event_id: str, choice: str | None = None) -> None:
    """An event handled and committed, its replies held for delivery."""
    text = None if choice else "/start"
    inbound = Inbound(
        Channel.TELEGRAM, "77", event_id, datetime.now(UTC), text, choice, address="77"
    )
    assert await core.engine.handle(inbound)


async def test_a_recorded_delivery_is_not_sent_again_after_a_crash(
    core: Core, tmp_path: Path
) -> None:
    await answered(core, "1")
    await answered(core, "2")
    ledger = SqlPendingReplies(core.database, tmp_path / "delivered.jsonl")
    await ledger.open()
    await ledger.settle(Channel.TELEGRAM, "1")
    # kill -9 now: the ledger is never closed, its batch never reached the database.

    after_restart = SqlPendingReplies(core.database, tmp_path / "delivered.jsonl")
    await after_restart.open()
    left = await after_restart.undelivered(Channel.TELEGRAM)
    assert [event.event_id for event in left] == ["2"]
    assert (tmp_path / "delivered.jsonl").read_bytes() == b""
    await after_restart.close()


async def test_an_event_this_run_is_still_sending_is_not_listed_for_resending(
    core: Core, tmp_path: Path
) -> None:
    # Matrix asks for what is left after its first sync, while it already answers new events.
    await answered(core, "left by the last run")
    ledger = SqlPendingReplies(core.database, tmp_path / "delivered.jsonl")
    await ledger.open()
    await answered(core, "committed, being sent now")
    left = await ledger.undelivered(Channel.TELEGRAM)
    assert [event.event_id for event in left] == ["left by the last run"]
    await ledger.close()


async def test_closing_settles_the_batch_in_the_database(core: Core, tmp_path: Path) -> None:
    for event_id in ("1", "2", "3"):
        await answered(core, event_id)
    ledger = SqlPendingReplies(core.database, tmp_path / "delivered.jsonl")
    await ledger.open()
    for event_id in ("1", "2", "3"):
        await ledger.settle(Channel.TELEGRAM, event_id)
    await ledger.close()
    without_journal = SqlPendingReplies(core.database)
    assert await without_journal.undelivered(Channel.TELEGRAM) == []
    assert (tmp_path / "delivered.jsonl").read_bytes() == b""


def statements_on(engine: AsyncEngine) -> list[str]:
    """Every SQL statement ``engine`` runs from now on."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    return seen


async def test_a_partial_delivery_is_recorded_in_the_file_alone(core: Core, tmp_path: Path) -> None:
    await answered(core, "1", choice="lang:uk")  # three replies
    ledger = SqlPendingReplies(core.database, tmp_path / "delivered.jsonl")
    await ledger.open()
    [stored] = await ledger.undelivered(Channel.TELEGRAM)
    assert len(stored.replies) == 3
    statements = statements_on(core.database)
    # No transaction between two replies: a crash during one would send the first again.
    await ledger.settle(Channel.TELEGRAM, "1", stored.replies[1:])
    assert statements == []
    # kill -9 now.

    after_restart = SqlPendingReplies(core.database, tmp_path / "delivered.jsonl")
    await after_restart.open()
    [left] = await after_restart.undelivered(Channel.TELEGRAM)
    assert left.replies == stored.replies[1:]
    await after_restart.close()


async def test_a_partial_delivery_outlives_the_batches_and_the_restarts(
    core: Core, tmp_path: Path
) -> None:
    await answered(core, "1", choice="lang:uk")
    await answered(core, "2")
    journal = tmp_path / "delivered.jsonl"
    ledger = SqlPendingReplies(core.database, journal)
    await ledger.open()
    [stored, _] = await ledger.undelivered(Channel.TELEGRAM)
    await ledger.settle(Channel.TELEGRAM, "1", stored.replies[1:])
    await ledger.settle(Channel.TELEGRAM, "1", stored.replies[2:])
    await ledger.settle(Channel.TELEGRAM, "2")
    await ledger.close()  # settles event 2 in the database and rewrites the file

    # Two crashes in a row: each start carries the partial line into the new file.
    for _ in range(2):
        restarted = SqlPendingReplies(core.database, journal)
        await restarted.open()
        [left] = await restarted.undelivered(Channel.TELEGRAM)
        assert (left.event_id, left.replies) == ("1", stored.replies[2:])

    await restarted.settle(Channel.TELEGRAM, "1")
    await restarted.close()
    assert await SqlPendingReplies(core.database).undelivered(Channel.TELEGRAM) == []
    assert journal.read_bytes() == b""


async def test_without_a_journal_a_partial_delivery_goes_to_the_database(core: Core) -> None:
    await answered(core, "1", choice="lang:uk")
    ledger = SqlPendingReplies(core.database)
    [stored] = await ledger.undelivered(Channel.TELEGRAM)
    await ledger.settle(Channel.TELEGRAM, "1", stored.replies[1:])
    [left] = await SqlPendingReplies(core.database).undelivered(Channel.TELEGRAM)
    assert left.replies == stored.replies[1:]


class FlakySettle:
    """The database's side of the journal; fails while ``down``."""

    def __init__(self) -> None:
        self.down = False
        self.settled: list[tuple[str, str]] = []

    async def __call__(self, events: Sequence[tuple[str, str]]) -> None:
        if self.down:
            raise ConnectionError("the database is gone")
        self.settled.extend(events)


async def test_a_batch_the_database_refused_stays_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "delivered.jsonl"
    database = FlakySettle()
    journal = DeliveryJournal(path, database)
    await journal.recover()
    journal.delivered("telegram", "1")
    journal.delivered("matrix", "$event:example.org")
    database.down = True
    await journal.close()
    assert database.settled == []
    assert path.read_bytes().count(b"\n") == 2

    database.down = False
    assert await DeliveryJournal(path, database).recover() == 2
    assert database.settled == [("telegram", "1"), ("matrix", "$event:example.org")]
    assert path.read_bytes() == b""


async def test_a_line_cut_short_by_a_crash_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "delivered.jsonl"
    path.write_bytes(b'["telegram", "1"]\n["telegram", "2"]\n["telegram", "3", 1]\n["telegr')
    database = FlakySettle()
    journal = DeliveryJournal(path, database)
    assert await journal.recover() == 2
    assert database.settled == [("telegram", "1"), ("telegram", "2")]
    assert journal.left("telegram", "3") == 1

"""/forget and the retention job: personal data goes, every total stays identical."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.app import Core, build_core
from bot.core.messages import Channel, Inbound
from bot.reports.formats import as_json
from bot.reports.periods import Month, year_months
from bot.reports.queries import build_report
from bot.storage.erasure import is_unlinked
from bot.storage.models import Contact, ConversationStateRow, Person, ProcessedEvent
from bot.storage.pending_replies import SqlPendingReplies
from bot.storage.pseudonym import HmacPseudonymiser
from bot.storage.retention import purge
from tests.conftest import TEST_KEY, make_settings
from tests.test_reports import greeted, helped, utc

WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    built = await build_core(make_settings(tmp_path))
    yield built
    await built.database.dispose()


async def press(core: Core, person: str, choice: str, at: datetime) -> str:
    replies = await core.engine.handle(
        Inbound(Channel.TELEGRAM, person, uuid.uuid4().hex, at, choice=choice)
    )
    return "\n".join(reply.text for reply in replies)


async def totals(core: Core, months: list[Month]) -> str:
    report = await build_report(
        core.database,
        months,
        zone=WARSAW,
        now=utc("2027-06-30T12:00:00"),
        entries_per_language={"pl": 3},
    )
    document = json.loads(as_json(report))
    del document["generated_at"]
    return json.dumps(document, sort_keys=True)


async def history(core: Core) -> None:
    """Olena was helped in two years and greeted once; Ivan helped once."""
    await helped(core, "olena", utc("2025-11-03T10:00:00"))
    await helped(core, "olena", utc("2025-12-01T10:00:00"))
    await helped(core, "olena", utc("2026-02-01T10:00:00"))
    await greeted(core, "olena", utc("2026-02-09T10:00:00"))
    await helped(core, "ivan", utc("2026-02-01T11:00:00"))


def key_of(person: str) -> str:
    return HmacPseudonymiser(bytes.fromhex(TEST_KEY))(Channel.TELEGRAM, person)


async def test_forget_asks_first_and_no_keeps_everything(core: Core) -> None:
    await helped(core, "olena", utc("2026-02-01T10:00:00"))
    text = await core.engine.handle(
        Inbound(Channel.TELEGRAM, "olena", "e1", utc("2026-02-01T10:01:00"), text="/forget")
    )
    assert [option.id for option in text[0].options] == ["forget:yes", "forget:no"]
    answer = await press(core, "olena", "forget:no", utc("2026-02-01T10:02:00"))
    assert answer.split("\n")[0] == "Niczego nie usunięto."
    async with core.database.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(Person)) == 1


async def test_forget_erases_the_person_and_keeps_every_total(core: Core) -> None:
    await history(core)
    months = [*year_months(2025), *year_months(2026)]
    before = await totals(core, months)

    await press(core, "olena", "forget:yes", utc("2026-03-01T10:00:00"))

    assert await totals(core, months) == before
    async with core.database.connect() as connection:
        people = list(await connection.scalars(select(Person.key)))
        assert people == [key_of("ivan")]
        assert await connection.scalar(select(func.count()).select_from(ConversationStateRow)) == 1
        keys = list(await connection.scalars(select(Contact.person_key).distinct()))
    assert key_of("olena") not in keys
    assert sum(is_unlinked(key) for key in keys) == 2  # one random key per year for Olena


async def test_after_forget_the_person_starts_afresh(core: Core) -> None:
    await helped(core, "olena", utc("2026-02-01T10:00:00"))
    await press(core, "olena", "forget:yes", utc("2026-02-01T10:01:00"))
    replies = await core.engine.handle(
        Inbound(Channel.TELEGRAM, "olena", "again", utc("2026-02-02T10:00:00"), text="/start")
    )
    assert replies[0].options[0].id == "lang:pl"  # the language picker: a new person


async def test_retention_clears_old_texts_and_unlinks_past_years_keeping_totals(
    core: Core,
) -> None:
    await history(core)
    # A question kept while the person has not chosen a language: a message text.
    await core.engine.handle(
        Inbound(Channel.TELEGRAM, "anna", "q", utc("2026-01-02T10:00:00"), text="PESEL")
    )
    months = [*year_months(2025), *year_months(2026)]
    before = await totals(core, months)

    outcome = await purge(core.database, utc("2026-06-01T03:30:00"), timedelta(days=90), WARSAW)

    assert await totals(core, months) == before
    assert outcome.contacts_unlinked == 2  # Olena's two 2025 contacts
    async with core.database.connect() as connection:
        states = list(await connection.scalars(select(ConversationStateRow.data)))
        keys_2025 = list(
            await connection.scalars(
                select(Contact.person_key).where(Contact.started_at < utc("2025-12-31T23:00:00"))
            )
        )
    assert all("pending_text" not in data or data["pending_text"] is None for data in states)
    assert len(set(keys_2025)) == 1 and is_unlinked(keys_2025[0])
    again = await purge(core.database, utc("2026-06-02T03:30:00"), timedelta(days=90), WARSAW)
    assert again.contacts_unlinked == 0  # random keys are never re-keyed


async def test_nothing_is_recorded_for_the_forget_press_itself(core: Core) -> None:
    await helped(core, "olena", datetime(2026, 2, 1, 10, tzinfo=UTC))
    await press(core, "olena", "forget:yes", datetime(2026, 4, 1, 10, tzinfo=UTC))
    async with core.database.connect() as connection:
        april = await connection.scalar(
            select(func.count()).where(Contact.started_at >= datetime(2026, 3, 31, 22, tzinfo=UTC))
        )
    assert april == 0


async def test_forget_drops_the_replies_still_waiting_to_be_delivered(core: Core) -> None:
    """A crash or an outage left replies stored with the chat's id; they go with the person."""
    at = utc("2026-02-01T10:00:00")
    for person, chat in (("olena", "31337"), ("ivan", "4242")):
        await core.engine.handle(
            Inbound(Channel.TELEGRAM, person, f"{person}-start", at, text="/start", address=chat)
        )
    pending = SqlPendingReplies(core.database)
    assert {stored.address for stored in await pending.undelivered("telegram")} == {
        "31337",
        "4242",
    }
    await core.engine.handle(
        Inbound(Channel.TELEGRAM, "olena", "forget", at, choice="forget:yes", address="31337")
    )
    assert [stored.address for stored in await pending.undelivered("telegram")] == ["4242"]
    async with core.database.connect() as connection:
        chats = set(await connection.scalars(select(ProcessedEvent.address)))
    assert "31337" not in chats

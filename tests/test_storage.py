"""The SQL store behind the dialogue: pseudonyms, redelivered events, state across restarts."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import Core, build_core
from bot.core.messages import Channel, Inbound
from bot.settings import Settings
from bot.storage.pending_replies import SqlPendingReplies
from bot.storage.pseudonym import HmacPseudonymiser, load_or_create_key
from tests.conftest import Chat, make_settings

NOW = datetime(2026, 11, 2, 10, tzinfo=UTC)


def _inbound(event_id: str, text: str, user_id: str = "555") -> Inbound:
    return Inbound(Channel.TELEGRAM, user_id, event_id, NOW, text=text)


async def test_a_redelivered_event_is_answered_once(core: Core) -> None:
    first = await core.engine.handle(_inbound("update-1", "/start"))
    again = await core.engine.handle(_inbound("update-1", "/start"))
    assert len(first) == 1
    assert again == []


async def test_the_same_event_id_on_another_channel_is_a_different_event(core: Core) -> None:
    await core.engine.handle(_inbound("7", "/start"))
    other = Inbound(Channel.CONSOLE, "555", "7", NOW, text="/start")
    assert len(await core.engine.handle(other)) == 1


async def test_no_platform_id_is_stored(settings: Settings, core: Core) -> None:
    await Chat(core, user_id="987654321").say("/start")
    database = settings.database.url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        dump = "\n".join(connection.iterdump())
    assert "987654321" not in dump
    key = HmacPseudonymiser(bytes.fromhex("11" * 32))("telegram", "987654321")
    assert key in dump


@pytest.fixture(params=["sqlite", "postgresql"])
def restartable(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings on either database: PostgreSQL writes a message's row, state and held
    replies in one statement, SQLite in three."""
    if request.param == "sqlite":
        return make_settings(tmp_path)
    return make_settings(tmp_path, database={"url": request.getfixturevalue("postgres_url")})


async def test_language_state_and_held_replies_survive_a_restart(restartable: Settings) -> None:
    first = await build_core(restartable)
    await Chat(first).say("/start")
    await Chat(first).press("lang:uk")
    # A message whose replies were stored, and then the bot died before sending them.
    held = Inbound(Channel.TELEGRAM, "1001", "held-1", NOW, text="/menu", address="1001")
    replies = await first.engine.handle(held)
    await first.database.dispose()

    second = await build_core(restartable)
    try:
        [left] = await SqlPendingReplies(second.database).undelivered(Channel.TELEGRAM)
        assert (left.event_id, left.address, left.replies) == ("held-1", "1001", replies)
        chat = Chat(second)
        assert (await chat.say("/menu")).startswith("Чого стосується ваше запитання?")
        # The options offered before the restart are still what "1" means.
        assert (await chat.say("1")).startswith("Документи та реєстрація: 2 теми.")
    finally:
        await second.database.dispose()


async def test_one_persons_messages_are_handled_one_at_a_time(core: Core) -> None:
    """Concurrent events of one person never interleave their read-modify-write."""
    events = [_inbound(f"burst-{n}", "/start", user_id="77") for n in range(20)]
    results = await asyncio.gather(*(core.engine.handle(event) for event in events))
    assert [len(replies) for replies in results] == [1] * 20


def test_pseudonyms_are_stable_and_channel_specific() -> None:
    pseudonymise = HmacPseudonymiser(b"k" * 32)
    assert pseudonymise("telegram", "1") == pseudonymise("telegram", "1")
    assert pseudonymise("telegram", "1") != pseudonymise("matrix", "1")
    assert pseudonymise("telegram", "1") != HmacPseudonymiser(b"j" * 32)("telegram", "1")
    with pytest.raises(ValueError, match="at least 16 bytes"):
        HmacPseudonymiser(b"short")


def test_the_key_file_is_created_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / "var" / "pseudonym.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_key(path) == key


@pytest.mark.postgres
async def test_the_dialogue_runs_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    core = await build_core(make_settings(tmp_path, database={"url": postgres_url}))
    try:
        chat = Chat(core)
        await chat.say("/start")
        assert (await chat.press("lang:pl")).startswith("Będę odpowiadać w języku: Polski.")
        assert await core.engine.handle(_inbound("pg-1", "/menu")) != []
        assert await core.engine.handle(_inbound("pg-1", "/menu")) == []
    finally:
        await core.database.dispose()

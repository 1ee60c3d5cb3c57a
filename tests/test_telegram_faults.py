"""Telegram faults: flood waits, server errors, dropped connections, blocked people, a crash.

Replies are delivered at least once and, where Telegram did not act on a failed call, exactly
once. Everything runs real python-telegram-bot against the fake Bot API on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.adapters.telegram import TelegramAdapter
from bot.adapters.telegram.aiohttp_request import AiohttpRequest
from bot.adapters.telegram.delivery import ReplyDelivery, with_retries
from bot.adapters.telegram.rendering import keyboard_json, render_html
from bot.adapters.telegram.splitting import fitted_parts
from bot.app import Core, build_core
from bot.core.messages import Option, Reply
from bot.settings import Settings
from bot.storage.models import ProcessedEvent
from bot.storage.pending_replies import SqlPendingReplies, reply_to_json
from tests.conftest import make_settings
from tests.fakes.telegram_api import FakeBotApi, Fault

OLENA = {"id": 31337, "is_bot": False, "first_name": "Olena", "language_code": "uk"}
PIOTR = {"id": 4242, "is_bot": False, "first_name": "Piotr", "language_code": "pl"}
QUICK = (0.01,) * 5


async def telegram_core(
    tmp_path: Path, api: FakeBotApi
) -> tuple[Settings, Core, SqlPendingReplies]:
    """Settings for ``api``, the core built on them, and a ledger of stored replies."""
    settings = make_settings(
        tmp_path,
        telegram={"token": api.token, "base_url": api.base_url, "rate_limit": False},
    )
    core = await build_core(settings)
    return settings, core, SqlPendingReplies(core.database)


@pytest.fixture
async def running(tmp_path: Path, api: FakeBotApi) -> AsyncIterator[tuple[Core, TelegramAdapter]]:
    settings, core, ledger = await telegram_core(tmp_path, api)
    adapter = TelegramAdapter(settings.telegram, core.engine, pending=ledger)
    adapter.delivery = ReplyDelivery(adapter.application.bot, ledger, QUICK)
    await adapter.start()
    yield core, adapter
    await adapter.stop()
    await core.database.dispose()


def texts_to(api: FakeBotApi, chat_id: int) -> list[str]:
    return [params["text"] for params in api.sent() if params["chat_id"] == chat_id]


async def test_a_reply_survives_a_flood_wait_a_server_error_and_a_dropped_connection(
    api: FakeBotApi, running: tuple[Core, TelegramAdapter]
) -> None:
    api.inject("sendMessage", Fault.flood_wait(1), Fault.server_error(502), Fault.dropped())
    await api.send_text(PIOTR, "/start")
    [picker] = await api.wait_for("sendMessage", 1)
    assert picker["text"].startswith("Wybierz język:")
    assert [call.method for call in api.failed] == ["sendMessage"] * 3
    # The three failed tries were not acted on by Telegram: the person sees one picker.
    assert texts_to(api, PIOTR["id"]) == [picker["text"]]
    await running[1].stop()  # waits for the batch in hand, settling included
    assert await SqlPendingReplies(running[0].database).undelivered("telegram") == []


async def test_polling_rides_out_failing_get_updates(
    api: FakeBotApi, running: tuple[Core, TelegramAdapter]
) -> None:
    api.inject("getUpdates", Fault.server_error(500), Fault.dropped(), Fault.flood_wait(1))
    await api.send_text(PIOTR, "/start")
    [picker] = await api.wait_for("sendMessage", 1, timeout=30)
    assert picker["text"].startswith("Wybierz język:")


async def test_a_person_who_blocked_the_bot_is_not_retried_and_others_are_answered(
    api: FakeBotApi, running: tuple[Core, TelegramAdapter]
) -> None:
    api.blocked.add(OLENA["id"])
    await api.send_text(OLENA, "/start")
    await api.send_text(PIOTR, "/start")
    await api.wait_for("sendMessage", 2)
    tried_olena = [params for params in api.sent() if params["chat_id"] == OLENA["id"]]
    assert len(tried_olena) == 1, "a 403 is final: no retry"
    assert texts_to(api, PIOTR["id"])[0].startswith("Wybierz język:")
    await running[1].stop()
    # Nothing is left stored for a chat that will never take it.
    assert await SqlPendingReplies(running[0].database).undelivered("telegram") == []


async def test_a_flood_wait_on_one_reply_holds_up_no_one_else(
    api: FakeBotApi, running: tuple[Core, TelegramAdapter]
) -> None:
    """Piotr's reply must wait a minute; Olena, who writes after him, is answered meanwhile.
    A stop cuts Piotr's wait short, and his reply is sent before the bot ends."""
    core, adapter = running
    api.inject("sendMessage", Fault.flood_wait(60))
    await api.send_text(PIOTR, "/start")
    await api.wait_failed(1)
    await api.send_text(OLENA, "/start")
    [picker] = await api.wait_for("sendMessage", 1)
    assert picker["chat_id"] == OLENA["id"]
    await adapter.stop()
    assert [params["chat_id"] for params in api.sent()] == [OLENA["id"], PIOTR["id"]]
    assert await SqlPendingReplies(core.database).undelivered("telegram") == []


async def test_replies_left_by_an_outage_go_out_once_at_the_next_start(
    tmp_path: Path, api: FakeBotApi
) -> None:
    settings, core, ledger = await telegram_core(tmp_path, api)
    first = TelegramAdapter(settings.telegram, core.engine, pending=ledger)
    # Telegram is down for longer than this run retries: the reply stays stored.
    first.delivery = ReplyDelivery(first.application.bot, ledger, (0.01,))
    api.inject("sendMessage", *[Fault.server_error(503)] * 2)
    await first.start()
    try:
        await api.send_text(PIOTR, "/start")
        await api.wait_failed(2)
        assert api.sent() == []
    finally:
        await first.stop()
    [left] = await ledger.undelivered("telegram")
    assert left.address == str(PIOTR["id"])
    second = TelegramAdapter(settings.telegram, core.engine, pending=ledger)
    await second.start()
    try:
        [picker] = await api.wait_for("sendMessage", 1)
        assert picker["text"].startswith("Wybierz język:")
        assert await ledger.undelivered("telegram") == []
    finally:
        await second.stop()
        await core.database.dispose()
    assert texts_to(api, PIOTR["id"]) == [picker["text"]]


LONG_ANSWER = Reply(
    "\n\n".join(f"Akapit {number}. " + "Termin wizyty w urzędzie. " * 60 for number in range(8)),
    "pl",
    title="Karta pobytu",
    options=(Option("menu", "Menu"),),
)


@pytest.mark.parametrize("journal", [False, True], ids=["ledger", "journal"])
async def test_a_long_reply_cut_short_goes_on_from_the_part_not_sent(
    tmp_path: Path, api: FakeBotApi, monkeypatch: pytest.MonkeyPatch, journal: bool
) -> None:
    # Stored by an event of the last run: what the engine commits before the sends.
    _, core, _ = await telegram_core(tmp_path, api)
    stored = {
        "channel": "telegram",
        "event_id": "long-1",
        "processed_at": datetime.now(UTC),
        "address": str(PIOTR["id"]),
        "pending": [reply_to_json(LONG_ANSWER)],
    }
    async with core.database.begin() as connection:
        await connection.execute(insert(ProcessedEvent).values(stored))
    parts = [render_html(part) for part in fitted_parts(LONG_ANSWER)]
    assert len(parts) >= 3
    path = tmp_path / "delivered.jsonl" if journal else None
    first_run = SqlPendingReplies(core.database, path)
    await first_run.open()
    # Telegram takes the first part, then is down for longer than this run retries.
    takes_one = api._api_sendMessage

    async def then_down(params: dict[str, Any]) -> Any:
        api.inject("sendMessage", Fault.server_error(503), Fault.server_error(503))
        return await takes_one(params)

    monkeypatch.setattr(api, "_api_sendMessage", then_down)
    async with Bot(api.token, base_url=api.base_url, request=AiohttpRequest()) as bot:
        await ReplyDelivery(bot, first_run, (0.01,)).resend_undelivered()
        assert texts_to(api, PIOTR["id"]) == parts[:1]
        await first_run.close()
        monkeypatch.setattr(api, "_api_sendMessage", takes_one)

        second_run = SqlPendingReplies(core.database, path)
        await second_run.open()
        await ReplyDelivery(bot, second_run).resend_undelivered()
        assert await second_run.undelivered("telegram", fitted_parts) == []
        await second_run.close()
    await core.database.dispose()
    assert texts_to(api, PIOTR["id"]) == parts, "each part once, in order"
    buttons = [params.get("reply_markup") for params in api.sent()]
    assert buttons == [None] * (len(parts) - 1) + [keyboard_json(LONG_ANSWER)]


async def test_a_stop_while_telegram_is_down_leaves_the_reply_for_the_next_start(
    tmp_path: Path, api: FakeBotApi
) -> None:
    settings, core, ledger = await telegram_core(tmp_path, api)
    # The production back-off: each reply is tried for some two and a half minutes.
    adapter = TelegramAdapter(settings.telegram, core.engine, pending=ledger)
    api.inject("sendMessage", *[Fault.server_error(503)] * 100)
    await adapter.start()
    try:
        await api.send_text(PIOTR, "/start")
        await api.wait_failed(1)
        # The stop cuts the back-off short and tries no more: at most the try it cut short.
        # Before, it waited out all ten (a timeout here does not show, as the polling's stop
        # swallows the cancellation; the count of tries does).
        async with asyncio.timeout(30):
            await adapter.stop()
        assert len(api.failed) <= 2
        # The reply is still stored, for the next start.
        [left] = await ledger.undelivered("telegram")
        assert left.address == str(PIOTR["id"])
        assert api.sent() == []
    finally:
        await core.database.dispose()


async def test_with_retries_waits_as_told_and_gives_up_only_on_refusals() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    outcomes: list[Exception | str] = [
        RetryAfter(3),
        TimedOut(),
        NetworkError("Bad Gateway"),
        "sent",
    ]

    async def send() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert await with_retries(send, (0.5, 1.0, 2.0), sleep) == "sent"
    assert waits == [3.0, 0.5, 1.0], "a flood wait is waited exactly and costs no attempt"

    calls: list[str] = []

    async def refused() -> str:
        calls.append("tried")
        raise outcomes.pop(0)

    outcomes[:] = [BadRequest("Bad Request: message is too long"), Forbidden("blocked")]
    with pytest.raises(BadRequest):
        await with_retries(refused, (0.5,), sleep)
    with pytest.raises(Forbidden):
        await with_retries(refused, (0.5,), sleep)
    assert calls == ["tried", "tried"], "a refusal is never retried"

    async def down() -> str:
        raise NetworkError("Service Unavailable")

    waits.clear()
    with pytest.raises(NetworkError):
        await with_retries(down, (0.5, 1.0), sleep)
    assert waits == [0.5, 1.0]

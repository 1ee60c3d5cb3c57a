"""Webhook mode: real python-telegram-bot behind our receiver, posted to as Telegram posts.

Telegram posts an update again until it gets a 2xx, so the receiver answers a post only once
the update was handled: a crash before that loses nothing (see test_crash_recovery.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.adapters.telegram import TelegramAdapter
from bot.app import Core, build_core
from tests.conftest import make_settings
from tests.fakes.telegram_api import FakeBotApi
from tests.ports import free_port

PIOTR = {"id": 4242, "is_bot": False, "first_name": "Piotr", "language_code": "pl"}
SECRET = "s3cret-token"
GOOD = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


@pytest.fixture
async def webhook(tmp_path: Path, api: FakeBotApi) -> AsyncIterator[str]:
    """The bot in webhook mode; yields the address Telegram would post to."""
    port = free_port()
    settings = make_settings(
        tmp_path,
        telegram={
            "token": api.token,
            "base_url": api.base_url,
            "mode": "webhook",
            "webhook_url": "https://bot.example.org/tg",
            "webhook_listen": "127.0.0.1",
            "webhook_port": port,
            "webhook_path": "tg",
            "webhook_secret": SECRET,
        },
    )
    core: Core = await build_core(settings)
    adapter = TelegramAdapter(settings.telegram, core.engine)
    await adapter.start()
    try:
        yield f"http://127.0.0.1:{port}/tg"
    finally:
        await adapter.stop()
        await core.database.dispose()


async def post(url: str, body: Any, headers: dict[str, str] | None = None) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=body, headers=GOOD if headers is None else headers) as response,
    ):
        return response.status


async def test_webhook_accepts_the_secret_and_refuses_others(api: FakeBotApi, webhook: str) -> None:
    [registration] = api.sent("setWebhook")
    assert registration["url"] == "https://bot.example.org/tg"
    assert registration["secret_token"] == SECRET
    assert registration["allowed_updates"] == ["message", "edited_message", "callback_query"]
    update = {"update_id": 900, **api.text_update(PIOTR, "/start")}
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guess"}):
        assert await post(webhook, update, headers) == 403
    assert api.sent() == []
    assert await post(webhook, update) == 200
    [picker] = api.sent()
    assert picker["text"].startswith("Wybierz język:")


@pytest.mark.parametrize(
    "body",
    [
        [],
        "text",
        42,
        None,
        {"message": {"text": "no update_id"}},
        {"update_id": "901"},
        {"update_id": 901, "message": "text"},
        {"update_id": 901, "message": {"message_id": 1, "chat": {"id": 1, "type": "private"}}},
        {
            "update_id": 901,
            "message": {"message_id": 1, "date": 10**20, "chat": {"id": 1, "type": "private"}},
        },
    ],
    ids=[
        "list",
        "string",
        "number",
        "null",
        "no-update-id",
        "string-update-id",
        "message-not-object",
        "message-without-date",
        "date-out-of-range",
    ],
)
async def test_a_post_that_is_not_an_update_is_refused_and_the_bot_goes_on(
    api: FakeBotApi, webhook: str, body: Any
) -> None:
    assert await post(webhook, body) == 400
    assert await post(webhook, {"update_id": 902, **api.text_update(PIOTR, "/start")}) == 200
    [picker] = api.sent()
    assert picker["text"].startswith("Wybierz język:")


async def test_an_oversized_post_is_refused(api: FakeBotApi, webhook: str) -> None:
    huge = {"update_id": 903, **api.text_update(PIOTR, "x" * 2_000_000)}
    assert await post(webhook, huge) == 413
    assert api.sent() == []


async def test_a_post_is_answered_only_once_its_update_was_handled(
    api: FakeBotApi, webhook: str
) -> None:
    api.hold("sendMessage")
    update = {"update_id": 904, **api.text_update(PIOTR, "/start")}
    delivery = asyncio.create_task(post(webhook, update))
    await api.wait_held(1)
    # PTB's own webhook server would have answered 200 by now, with the reply still to come.
    done, _ = await asyncio.wait({delivery}, timeout=0.5)
    assert not done, "the post was answered while the reply was still being sent"
    api.release()
    assert await delivery == 200
    assert api.sent()[0]["text"].startswith("Wybierz język:")


async def test_an_update_posted_again_is_answered_once(api: FakeBotApi, webhook: str) -> None:
    """Telegram posts again when our 200 did not reach it (a timeout, a dropped connection)."""
    update = {"update_id": 905, **api.text_update(PIOTR, "/start")}
    assert await post(webhook, update) == 200
    assert await post(webhook, update) == 200
    assert len(api.sent()) == 1

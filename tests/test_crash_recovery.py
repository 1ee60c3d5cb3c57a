"""kill -9 in the middle of a conversation: after a restart the person's state, their open
ticket and the replies the crash held back are all there, and no update is answered twice.

The bot runs as a real process (`python -m bot run`) against the fake Bot API, by polling
and by webhook; the crash strikes while Telegram holds the bot's sends, after the engine
committed the event.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.adapters.telegram.rendering import render_html
from bot.adapters.telegram.splitting import split_html
from bot.app import build_core
from bot.core.messages import Channel, Inbound
from tests.bot_process import BotProcess
from tests.conftest import ROOT, TEST_KEY, make_settings
from tests.fakes.telegram_api import FakeBotApi
from tests.ports import free_port

pytestmark = pytest.mark.slow

STAFF_CHAT = -100777
ANNA = {"id": 501, "is_bot": False, "first_name": "Anna", "last_name": "Nowak"}
OLENA = {"id": 31337, "is_bot": False, "first_name": "Olena", "language_code": "uk"}
ALWAYS_OPEN = "mon-sun 00:00-23:59"  # the texts must not depend on the hour the test runs
CASE = "Хочу поговорити з людиною: роботодавець не платить мені зарплату два місяці"
FOLLOW_UP = "Дякую, а що взяти з собою?"
WEBHOOK_SECRET = "webhook-secret"


@pytest.fixture
async def bot(tmp_path: Path, api: FakeBotApi) -> AsyncIterator[BotProcess]:
    api.members[STAFF_CHAT] = {ANNA["id"]: "administrator"}
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin"),
        "PYTHONPATH": str(ROOT),
        "INFOPOINT_TELEGRAM__TOKEN": api.token,
        "INFOPOINT_TELEGRAM__BASE_URL": api.base_url,
        "INFOPOINT_TELEGRAM__STAFF_CHAT_ID": str(STAFF_CHAT),
        "INFOPOINT_TELEGRAM__RATE_LIMIT": "false",
        "INFOPOINT_DATABASE__URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "INFOPOINT_KNOWLEDGE_DIR": str(ROOT / "knowledge"),
        "INFOPOINT_PSEUDONYM_KEY": TEST_KEY,
        "INFOPOINT_OFFICE_HOURS": ALWAYS_OPEN,
        "INFOPOINT_LOG_LEVEL": "INFO",
    }
    process = BotProcess(env, tmp_path)
    yield process
    await process.stop()


async def until(api: FakeBotApi, check: Any, timeout: float = 60.0) -> Any:
    async with api._changed:
        await asyncio.wait_for(api._changed.wait_for(check), timeout)
    return check()


def texts_to(api: FakeBotApi, chat: int) -> list[str]:
    return [call["text"] for call in api.sent() if call["chat_id"] == chat]


async def reference_transcript(workdir: Path, steps: list[dict[str, str]]) -> list[list[str]]:
    """What the person should read for each step, from a bot that never crashed."""
    settings = make_settings(workdir, knowledge_dir=ROOT / "knowledge", office_hours=ALWAYS_OPEN)
    core = await build_core(settings)
    try:
        transcript = []
        for number, step in enumerate(steps):
            inbound = Inbound(
                Channel.TELEGRAM,
                str(OLENA["id"]),
                f"reference-{number}",
                datetime.now(UTC),
                language_hint="uk",
                address=str(OLENA["id"]),
                **step,
            )
            replies = await core.engine.handle(inbound)
            transcript.append(
                [part for reply in replies for part in split_html(render_html(reply))]
            )
        return transcript
    finally:
        await core.database.dispose()


async def test_kill_9_between_commit_and_send_loses_nothing_and_repeats_nothing(
    tmp_path: Path, api: FakeBotApi, bot: BotProcess
) -> None:
    steps = [{"text": "/start"}, {"choice": "lang:uk"}, {"text": CASE}, {"text": FOLLOW_UP}]
    expected = await reference_transcript(tmp_path / "reference", steps)
    assert expected[3] == [], "with a ticket open, a follow-up goes to staff, unanswered"

    await bot.start()
    await until(api, lambda: len(api.sent("setMyCommands")) >= 5)
    await api.send_text(OLENA, "/start")
    await api.press(OLENA, "lang:uk")
    before_crash = expected[0] + expected[1]
    await until(api, lambda: len(texts_to(api, OLENA["id"])) >= len(before_crash))

    # Telegram holds every send: the case is committed (a ticket opens), nothing reaches anyone.
    api.hold("sendMessage")
    await api.send_text(OLENA, CASE)
    await api.wait_held(1)
    await bot.kill_9()
    api.release()
    assert texts_to(api, OLENA["id"]) == before_crash

    await bot.start()
    # The replies the crash held back go out once; the redelivered update adds nothing.
    whole = before_crash + expected[2]
    await until(api, lambda: len(texts_to(api, OLENA["id"])) >= len(whole))
    assert texts_to(api, OLENA["id"]) == whole
    assert "#1" in expected[2][0]

    # The card the crash held back is posted as the bot starts again.
    cards = await until(
        api, lambda: [text for text in texts_to(api, STAFF_CHAT) if text.startswith("<b>#1</b>")]
    )
    assert CASE in cards[0]

    # The ticket survived, and the conversation goes on in it: the follow-up reaches staff.
    await api.send_text(OLENA, FOLLOW_UP)
    relayed = await until(
        api, lambda: [text for text in texts_to(api, STAFF_CHAT) if "що взяти" in text]
    )
    assert relayed[0].startswith("#1 · UK")
    assert [text for text in texts_to(api, STAFF_CHAT) if text.startswith("<b>#1</b>")] == cards
    await api.send_group_text(STAFF_CHAT, ANNA, "/reply 1 Paszport i umowę.")
    answer = await until(
        api, lambda: [text for text in texts_to(api, OLENA["id"]) if "Paszport" in text]
    )
    assert answer == ["Працівник Інформаційного пункту: Paszport i umowę."]
    assert texts_to(api, OLENA["id"]) == [*whole, *answer], "nothing was answered twice"
    assert await bot.stop() == 0, bot.log
    assert "Traceback" not in bot.log


async def post_update(url: str, update: dict[str, Any]) -> int:
    """Post as Telegram does; the status, or 0 when the bot hung up without answering."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json=update, headers=headers) as response,
        ):
            return response.status
    except aiohttp.ClientError:
        return 0


async def test_kill_9_in_webhook_mode_loses_nothing_and_repeats_nothing(
    tmp_path: Path, api: FakeBotApi, bot: BotProcess
) -> None:
    """Telegram posts an update again until a post of it is answered 2xx."""
    steps = [{"text": "/start"}, {"choice": "lang:uk"}, {"text": CASE}]
    expected = await reference_transcript(tmp_path / "reference", steps)
    port = free_port()
    bot.environment |= {
        "INFOPOINT_TELEGRAM__MODE": "webhook",
        "INFOPOINT_TELEGRAM__WEBHOOK_URL": "https://bot.example.org/tg",
        "INFOPOINT_TELEGRAM__WEBHOOK_PORT": str(port),
        "INFOPOINT_TELEGRAM__WEBHOOK_PATH": "tg",
        "INFOPOINT_TELEGRAM__WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    url = f"http://127.0.0.1:{port}/tg"
    await bot.start()
    await until(api, lambda: len(api.sent("setWebhook")) == 1)
    start = {"update_id": 1, **api.text_update(OLENA, "/start")}
    language = {"update_id": 2, **api.button_update(OLENA, "lang:uk")}
    assert await post_update(url, start) == 200
    assert await post_update(url, language) == 200
    before_crash = expected[0] + expected[1]
    assert texts_to(api, OLENA["id"]) == before_crash

    api.hold("sendMessage")
    case = {"update_id": 3, **api.text_update(OLENA, CASE)}
    delivery = asyncio.create_task(post_update(url, case))
    await api.wait_held(1)
    await bot.kill_9()
    assert await delivery == 0, "the post was answered before its update was handled"
    api.release()

    await bot.start()
    await until(api, lambda: len(api.sent("setWebhook")) == 2)
    # Telegram posts the unanswered update again; the replies the crash held back went out
    # as the bot started, and the update, handled before the crash, adds nothing.
    assert await post_update(url, case) == 200
    whole = before_crash + expected[2]
    assert texts_to(api, OLENA["id"]) == whole
    assert await bot.stop() == 0, bot.log
    assert "Traceback" not in bot.log


async def test_kill_9_between_a_take_and_its_card_leaves_no_card_behind(
    api: FakeBotApi, bot: BotProcess
) -> None:
    await bot.start()
    await until(api, lambda: len(api.sent("setMyCommands")) >= 5)
    await api.send_text(OLENA, "/start")
    await api.press(OLENA, "lang:uk")
    await api.send_text(OLENA, CASE)
    await until(api, lambda: [t for t in texts_to(api, STAFF_CHAT) if t.startswith("<b>#1</b>")])
    card_id = api.message_ids(STAFF_CHAT)[0]

    # Anna takes the ticket; it is committed, and the bot dies while Telegram holds the edit.
    api.hold("editMessageText")
    await api.press_in_group(STAFF_CHAT, ANNA, "ticket:1:take", card_id)
    await api.wait_held(1)
    await bot.kill_9()
    api.release()
    assert api.sent("editMessageText") == []

    # The card no longer offers to take a ticket Anna has: the start brings it up to date.
    await bot.start()
    edited = await until(api, lambda: api.sent("editMessageText"))
    assert edited[-1]["message_id"] == card_id
    assert "Status: przejęte przez: Anna Nowak" in edited[-1]["text"]
    assert await bot.stop() == 0, bot.log
    assert "Traceback" not in bot.log

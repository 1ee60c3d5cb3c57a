"""Bad input and floods: each case gets a clear answer in the person's language, and a flood
costs the database nothing. Telegram cases run through the fake Bot API."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.adapters.telegram import TelegramAdapter
from bot.app import Core, build_core
from bot.core.messages import Channel, Inbound
from bot.storage.models import ProcessedEvent
from tests.conftest import make_settings
from tests.fakes.telegram_api import FakeBotApi

OLENA = {"id": 31337, "is_bot": False, "first_name": "Olena", "language_code": "uk"}
START = datetime(2026, 11, 2, 10, tzinfo=UTC)


def inbound(number: int, at: datetime, text: str = "Як отримати PESEL?") -> Inbound:
    return Inbound(Channel.TELEGRAM, "7001", f"flood-{number}", at, text=text, language_hint="uk")


async def processed(core: Core) -> int:
    async with core.database.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(ProcessedEvent)) or 0)


async def test_a_flood_gets_one_notice_then_silence_without_database_writes(tmp_path: Path) -> None:
    core = await build_core(make_settings(tmp_path, flood_messages_per_minute=5))
    try:
        answered = [
            await core.engine.handle(inbound(n, START + timedelta(seconds=n))) for n in range(5)
        ]
        assert all(answered)
        notice = await core.engine.handle(inbound(5, START + timedelta(seconds=5)))
        assert [reply.text for reply in notice] == [
            "Ви надсилаєте повідомлення швидше, ніж я встигаю відповідати. Будь ласка, зачекайте "
            "хвилину, а потім напишіть своє запитання одним повідомленням."
        ]
        dropped = [
            await core.engine.handle(inbound(n, START + timedelta(seconds=n))) for n in range(6, 20)
        ]
        assert dropped == [[]] * 14
        assert await processed(core) == 5  # the notice and the dropped ones wrote nothing
        # A minute after the first message there is room again.
        later = await core.engine.handle(inbound(20, START + timedelta(seconds=61)))
        assert later and later[-1].language == "uk"
        assert await processed(core) == 6
    finally:
        await core.database.dispose()


@pytest.fixture
async def running(tmp_path: Path, api: FakeBotApi) -> AsyncIterator[Core]:
    settings = make_settings(tmp_path, telegram={"token": api.token, "base_url": api.base_url})
    core = await build_core(settings)
    adapter = TelegramAdapter(settings.telegram, core.engine)
    await adapter.start()
    yield core
    await adapter.stop()
    await core.database.dispose()


def private_message(api: FakeBotApi, user: dict[str, Any], **content: Any) -> dict[str, Any]:
    update = api.text_update(user, "x")
    del update["message"]["text"]
    update["message"].update(content)
    return update


NOT_TEXT = "Я можу читати лише текст. Будь ласка, напишіть своє запитання словами."
PICTURE = (
    "Я можу читати лише текст, тому не можу переглядати фото чи файли. Якщо у вас є питання "
    "щодо документа, допоможуть працівники Інформаційного пункту: поговоріть з людиною. Або "
    "напишіть своє запитання словами."
)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            {
                "sticker": {
                    "file_id": "s",
                    "file_unique_id": "s",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "type": "regular",
                }
            },
            NOT_TEXT,
        ),
        ({"voice": {"file_id": "v", "file_unique_id": "v", "duration": 3}}, NOT_TEXT),
        (
            {
                "video": {
                    "file_id": "d",
                    "file_unique_id": "d",
                    "width": 1,
                    "height": 1,
                    "duration": 1,
                }
            },
            NOT_TEXT,
        ),
        ({"location": {"latitude": 50.06, "longitude": 19.94}}, NOT_TEXT),
        ({"contact": {"phone_number": "+48000000000", "first_name": "A"}}, NOT_TEXT),
        (
            {
                "poll": {
                    "id": "p",
                    "question": "?",
                    "options": [
                        {"text": "a", "voter_count": 0, "persistent_id": "a"},
                        {"text": "b", "voter_count": 0, "persistent_id": "b"},
                    ],
                    "total_voter_count": 0,
                    "is_closed": False,
                    "is_anonymous": True,
                    "type": "regular",
                    "allows_multiple_answers": False,
                    "allows_revoting": False,
                    "members_only": False,
                }
            },
            NOT_TEXT,
        ),
        ({"photo": [{"file_id": "p", "file_unique_id": "p", "width": 90, "height": 90}]}, PICTURE),
        ({"document": {"file_id": "f", "file_unique_id": "f", "file_name": "karta.pdf"}}, PICTURE),
    ],
    ids=["sticker", "voice", "video", "location", "contact", "poll", "photo", "document"],
)
async def test_what_is_not_text_gets_a_clear_answer(
    api: FakeBotApi, running: Core, content: dict[str, Any], expected: str
) -> None:
    await api.push(private_message(api, OLENA, **content))
    [reply] = await api.wait_for("sendMessage", 1)
    assert reply["text"] == expected
    markup = reply["reply_markup"]["inline_keyboard"]
    assert markup == [[{"text": "Поговорити з людиною", "callback_data": "human"}]]


async def test_an_edited_question_is_answered_as_corrected(api: FakeBotApi, running: Core) -> None:
    update = api.text_update(OLENA, "Як отримати PESL?")
    edited = {
        "edited_message": {
            **update["message"],
            "text": "Як отримати PESEL?",
            "edit_date": int(time.time()),
        }
    }
    await api.push(edited)
    replies = await api.wait_for("sendMessage", 3)
    assert replies[-1]["text"].startswith("<b>Номер PESEL</b>")


async def test_added_to_a_group_by_mistake_it_says_so_and_leaves(
    api: FakeBotApi, running: Core
) -> None:
    group = {"id": -4242, "type": "group", "title": "Друзі"}
    message = {
        "message_id": 9000,
        "date": int(time.time()),
        "chat": group,
        "from": OLENA,
        "new_chat_members": [{"id": 1, "is_bot": True, "first_name": "infopoint"}],
    }
    await api.push({"message": message})
    [said] = await api.wait_for("sendMessage", 1)
    assert said["chat_id"] == -4242
    assert said["text"] == (
        "Я відповідаю лише в особистих чатах, тому виходжу з цієї групи. Напишіть мені напряму, "
        "щоб поставити запитання."
    )
    [left] = await api.wait_for("leaveChat", 1)
    assert int(left["chat_id"]) == -4242


async def test_ten_thousand_characters_are_answered_in_messages_telegram_accepts(
    api: FakeBotApi, running: Core
) -> None:
    await api.send_text(OLENA, "/start")
    await api.press(OLENA, "lang:uk")
    await api.wait_for("sendMessage", 3)
    long_text = ("Як отримати PESEL для дитини? " * 400)[:10_000]
    await api.send_text(OLENA, long_text)
    replies = await api.wait_for("sendMessage", 4)
    assert replies[3]["chat_id"] == OLENA["id"]
    assert all(len(reply["text"]) <= 4096 for reply in api.sent("sendMessage"))


async def test_thousands_of_digits_are_an_option_not_chosen_not_a_crash(tmp_path: Path) -> None:
    """Python refuses to read more than 4,300 digits as a number: where a typed number can
    choose an option, such a message is read as text, and answered."""
    core = await build_core(make_settings(tmp_path))
    try:
        picker = await core.engine.handle(inbound(1, START, text="/start"))
        assert picker[-1].options  # the language picker: options chosen by their number
        replies = await core.engine.handle(inbound(2, START + timedelta(seconds=5), "1" * 5000))
        apology = core.engine.apology("uk")
        assert replies
        assert all(reply.text != apology.text for reply in replies)
        assert await processed(core) == 2
    finally:
        await core.database.dispose()

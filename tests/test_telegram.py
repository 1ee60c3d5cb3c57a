"""Telegram: real python-telegram-bot over HTTP against the fake Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import signal
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.adapters.telegram import TelegramAdapter
from bot.app import Core, build_core
from bot.settings import Settings
from tests.conftest import FIXTURE_KNOWLEDGE, ROOT, TEST_KEY, make_settings, start_bot_process
from tests.fakes.telegram_api import FakeBotApi

OLENA = {"id": 31337, "is_bot": False, "first_name": "Olena", "language_code": "uk"}
PIOTR = {"id": 4242, "is_bot": False, "first_name": "Piotr", "language_code": "pl"}


def telegram_settings(tmp_path: Path, api: FakeBotApi, **telegram: object) -> Settings:
    return make_settings(
        tmp_path, telegram={"token": api.token, "base_url": api.base_url, **telegram}
    )


@pytest.fixture
async def running(tmp_path: Path, api: FakeBotApi) -> AsyncIterator[tuple[Core, TelegramAdapter]]:
    settings = telegram_settings(tmp_path, api)
    core = await build_core(settings)
    adapter = TelegramAdapter(settings.telegram, core.engine)
    await adapter.start()
    yield core, adapter
    await adapter.stop()
    await core.database.dispose()


def buttons(message: dict[str, Any]) -> list[list[tuple[str, str]]]:
    markup = message.get("reply_markup") or {"inline_keyboard": []}
    return [
        [(button["text"], button["callback_data"]) for button in row]
        for row in markup["inline_keyboard"]
    ]


async def test_start_language_and_menu_as_a_person_sees_them(
    api: FakeBotApi, running: tuple[Core, TelegramAdapter]
) -> None:
    await api.send_text(OLENA, "/start")
    [picker] = await api.wait_for("sendMessage", 1)
    assert picker["chat_id"] == OLENA["id"]
    assert picker["parse_mode"] == "HTML"
    assert picker["text"] == "Оберіть мову:\nWybierz język:\nChoose your language:\nВыберите язык:"
    assert buttons(picker) == [
        [("Polski", "lang:pl"), ("English", "lang:en")],
        [("Українська", "lang:uk"), ("Русский", "lang:ru")],
    ]

    await api.press(OLENA, "lang:uk")
    _, confirmation, privacy, menu = await api.wait_for("sendMessage", 4)
    assert len(api.sent("answerCallbackQuery")) == 1
    assert confirmation["text"].startswith("Я відповідатиму мовою: Українська.")
    assert privacy["text"].startswith("Про вашу приватність:")
    assert menu["text"] == (
        "Чого стосується ваше запитання? Оберіть тему або просто напишіть запитання."
    )
    assert buttons(menu) == [
        [("Документи та реєстрація", "cat:docs")],
        [("Безпека та права", "cat:safety")],
        [("Поговорити з людиною", "human")],
    ]

    await api.send_text(OLENA, "де зробити песель")
    answer = (await api.wait_for("sendMessage", 5))[-1]
    assert answer["text"].startswith("<b>Номер PESEL</b>\n\nPESEL надають")
    assert (
        '• <a href="https://otwarty.krakow.pl/punkt_informacyjny/246758,artykul,'
        'nadanie_numeru_pesel.html">Otwarty Kraków – Nadanie numeru PESEL</a>'
    ) in answer["text"]
    assert answer["link_preview_options"] == {"is_disabled": True}
    assert buttons(answer) == [
        [("👍", "rate:up:docs.pesel"), ("👎", "rate:down:docs.pesel")],
        [("Поговорити з людиною", "human")],
        [("Назад до: Документи та реєстрація", "cat:docs")],
        [("Головне меню", "menu")],
    ]


async def test_commands_are_registered_in_four_languages(
    api: FakeBotApi, running: tuple[Core, TelegramAdapter]
) -> None:
    registered = {
        call.get("language_code"): [c["description"] for c in call["commands"]]
        for call in api.sent("setMyCommands")
    }
    assert set(registered) == {None, "pl", "en", "uk", "ru"}
    assert registered["uk"] == [
        "Почати",
        "Теми",
        "Поговорити з людиною",
        "Змінити мову",
        "Що я про вас зберігаю",
        "Видалити мої дані",
        "Довідка",
    ]
    assert registered["pl"][3] == "Zmień język"
    assert registered["ru"][3] == "Сменить язык"
    assert registered[None] == registered["en"]
    names = [c["command"] for c in api.sent("setMyCommands")[0]["commands"]]
    assert names == ["start", "menu", "human", "language", "privacy", "forget", "help"]


async def test_replies_go_out_without_a_warning_from_ptb(
    api: FakeBotApi, running: tuple[Core, TelegramAdapter]
) -> None:
    # Replies are sent with Bot.do_api_request, which PTB warns about for a method it has.
    with warnings.catch_warnings(record=True) as caught:
        await api.send_text(PIOTR, "/start")
        await api.press(PIOTR, "lang:pl")
        await api.wait_for("sendMessage", 4)

    assert [str(warning.message) for warning in caught] == []


async def test_user_text_is_escaped_in_html(
    api: FakeBotApi, running: tuple[Core, TelegramAdapter]
) -> None:
    await api.send_text(PIOTR, "/start")
    await api.press(PIOTR, "lang:pl")
    await api.send_text(PIOTR, '/<b>hi</b>&amp;"')
    reply = (await api.wait_for("sendMessage", 5))[-1]
    assert reply["text"] == (
        "Nie znam polecenia /&lt;b&gt;hi&lt;/b&gt;&amp;amp;&quot;. Co potrafię, pokazuje /help."
    )


async def test_a_failure_is_logged_and_apologised_for_and_polling_goes_on(
    api: FakeBotApi,
    running: tuple[Core, TelegramAdapter],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    core, _ = running
    original = core.engine.handle
    calls = 0

    async def failing_once(inbound: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database on fire")
        return await original(inbound)

    monkeypatch.setattr(core.engine, "handle", failing_once)
    await api.send_text(OLENA, "/start")
    [apology] = await api.wait_for("sendMessage", 1)
    assert apology["text"] == (
        "Вибачте, у мене щось пішло не так. Спробуйте, будь ласка, ще раз за хвилину."
    )
    assert "handling a Telegram update failed" in caplog.text
    await api.send_text(OLENA, "/start")
    picker = (await api.wait_for("sendMessage", 2))[-1]
    assert picker["text"].startswith("Оберіть мову:")


@pytest.mark.slow
@pytest.mark.parametrize("source", ["environment", "dotenv"])
async def test_the_bot_runs_as_a_process(tmp_path: Path, api: FakeBotApi, source: str) -> None:
    """`python -m bot run` picks Telegram when a token is configured, in either place."""
    settings = {
        "INFOPOINT_TELEGRAM__TOKEN": api.token,
        "INFOPOINT_TELEGRAM__BASE_URL": api.base_url,
        "INFOPOINT_DATABASE__URL": f"sqlite:///{tmp_path / 'process.db'}",
        "INFOPOINT_KNOWLEDGE_DIR": str(FIXTURE_KNOWLEDGE),
        "INFOPOINT_PSEUDONYM_KEY": TEST_KEY,
        "INFOPOINT_LOG_LEVEL": "INFO",
    }
    env = {"PATH": os.environ.get("PATH", "/usr/bin"), "PYTHONPATH": str(ROOT)}
    if source == "environment":
        env.update(settings)
    else:
        (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    process = await start_bot_process(env, tmp_path, stdin=asyncio.subprocess.DEVNULL)
    try:
        await api.wait_for("setMyCommands", 5, timeout=60)
        await api.send_text(OLENA, "/start")
        [picker] = await api.wait_for("sendMessage", 1, timeout=30)
        assert picker["text"].startswith("Оберіть мову:")
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    log = stderr.decode()
    assert process.returncode == 0, log
    assert stdout == b"", "a Telegram run must not start the console chat"
    assert "Telegram adapter started (polling) as @infopoint_test_bot" in log
    assert api.token not in log, "the token leaked into the log"
    assert "Traceback" not in log


async def test_fake_api_decodes_form_fields_as_the_bot_api_does(api: FakeBotApi) -> None:
    """A text "123" stays a string while chat_id and markup are decoded from JSON."""
    url = f"{api.base_url}{api.token}/sendMessage"
    form = {"chat_id": "5", "text": "123", "reply_markup": '{"inline_keyboard": []}'}
    async with aiohttp.ClientSession() as session, session.post(url, data=form) as response:
        assert (await response.json())["ok"] is True
    assert api.sent() == [{"chat_id": 5, "text": "123", "reply_markup": {"inline_keyboard": []}}]

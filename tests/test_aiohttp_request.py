"""Our aiohttp request backend keeps python-telegram-bot's contract, over real HTTP against the
fake Bot API: answers, Telegram's errors, uploads, timeouts and dropped connections.

The adapter's own tests (test_telegram*.py) run on this backend too, as it is the default;
one of them here runs the adapter on PTB's httpx backend, which stays selectable.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.adapters.telegram import TelegramAdapter
from bot.adapters.telegram.aiohttp_request import AiohttpRequest
from bot.app import build_core
from tests.conftest import make_settings
from tests.fakes.telegram_api import FakeBotApi, Fault
from tests.ports import free_port

PERSON = {"id": 4242, "is_bot": False, "first_name": "Olena", "language_code": "uk"}


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    bot = Bot(
        api.token,
        base_url=api.base_url,
        request=AiohttpRequest(read_timeout=0.5),
        get_updates_request=AiohttpRequest(connection_pool_size=1),
    )
    async with bot:
        yield bot


async def test_a_message_is_sent_and_its_answer_parsed(api: FakeBotApi, bot: Bot) -> None:
    sent = await bot.send_message(PERSON["id"], "<b>Cześć</b> & witaj", parse_mode="HTML")
    assert sent.chat.id == PERSON["id"]
    assert sent.text == "<b>Cześć</b> & witaj"
    [call] = api.sent("sendMessage")
    assert call["text"] == "<b>Cześć</b> & witaj"
    assert call["parse_mode"] == "HTML"


async def test_a_message_goes_as_json_with_its_keyboard_as_an_object(
    api: FakeBotApi, bot: Bot
) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("PESEL", callback_data="topic:pesel")]])
    await bot.send_message(PERSON["id"], "Що таке «PESEL»? 123", reply_markup=keyboard)
    [call] = [call for call in api.calls if call.method == "sendMessage"]
    assert call.content_type == "application/json"
    assert call.params["text"] == "Що таке «PESEL»? 123"
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "PESEL", "callback_data": "topic:pesel"}]]
    }


async def test_updates_come_through_a_long_poll(api: FakeBotApi, bot: Bot) -> None:
    await api.send_text(PERSON, "Як отримати PESEL?")
    [update] = await bot.get_updates(timeout=1)
    assert update.message is not None
    assert update.message.text == "Як отримати PESEL?"


async def test_telegrams_errors_become_ptbs_exceptions(api: FakeBotApi, bot: Bot) -> None:
    api.inject("sendMessage", Fault.flood_wait(3))
    with pytest.raises(RetryAfter, match="Retry in 3 seconds"):
        await bot.send_message(PERSON["id"], "za szybko")
    api.blocked.add(PERSON["id"])
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(PERSON["id"], "zablokowany")
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(777, "x" * 5000)
    api.inject("sendMessage", Fault.server_error(502))
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(777, "serwer leży")


async def test_a_dropped_connection_is_a_network_error(api: FakeBotApi, bot: Bot) -> None:
    api.inject("sendMessage", Fault.dropped())
    with pytest.raises(NetworkError) as dropped:
        await bot.send_message(PERSON["id"], "halo?")
    assert not isinstance(dropped.value, TimedOut)
    assert (await bot.send_message(PERSON["id"], "znowu")).text == "znowu"


async def test_an_unanswered_request_times_out(api: FakeBotApi, bot: Bot) -> None:
    api.hold("sendMessage")
    with pytest.raises(TimedOut):
        await bot.send_message(PERSON["id"], "czekam")
    api.release()


async def test_no_server_is_a_network_error() -> None:
    port = free_port()  # nothing listens there
    request = AiohttpRequest(connect_timeout=1)
    with pytest.raises(NetworkError) as refused:
        async with Bot("1:x", base_url=f"http://127.0.0.1:{port}/bot", request=request):
            pass  # starting asks getMe, which finds no one
    assert "aiohttp.ClientConnectorError" in str(refused.value)


@pytest.fixture
async def gateway() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A server on 127.0.0.1 that answers every call 200 with the next body it is given, as
    a broken proxy in front of Telegram might: the base URL, and the bodies to give."""
    bodies: list[bytes] = []

    async def answer(_request: web.Request) -> web.Response:
        return web.Response(body=bodies.pop(0), content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/bot", bodies
    await runner.cleanup()


async def test_answers_are_read_as_ptb_reads_them_and_a_broken_one_is_not_logged(
    gateway: tuple[str, list[bytes]], caplog: pytest.LogCaptureFixture
) -> None:
    base_url, bodies = gateway
    me = b'{"ok": true, "result": {"id": 1, "is_bot": true, "first_name": "Bot", "username": "b"}}'
    # A message's echo whose text is not valid UTF-8 is read as PTB reads it: replaced.
    echo = (
        b'{"ok": true, "result": {"message_id": 5, "date": 0, "text": "Cze\xc5 \xff",'
        b' "chat": {"id": 4242, "type": "private"}}}'
    )
    bodies += [me, echo, b"<html>Proxy error: Olena's message</html>"]
    async with Bot("1:x", base_url=base_url, request=AiohttpRequest()) as bot:
        sent = await bot.send_message(PERSON["id"], "Cześć")
        assert sent.text == "Cze\ufffd \ufffd"
        with pytest.raises(TelegramError, match="Invalid server response"):
            await bot.send_message(PERSON["id"], "Cześć")
    assert "Olena" not in caplog.text, "what came back may hold what people wrote"


async def test_a_file_is_uploaded_as_multipart(api: FakeBotApi, bot: Bot) -> None:
    report = b"PK\x03\x04 a report's bytes \x00\xff"
    await bot.send_document(
        PERSON["id"], InputFile(report, filename="raport-2026-10.xlsx"), caption="Raport"
    )
    [call] = api.sent("sendDocument")
    assert call["document"] == report
    assert call["caption"] == "Raport"


async def test_the_adapter_still_runs_on_ptbs_httpx_backend(
    tmp_path: Path, api: FakeBotApi
) -> None:
    settings = make_settings(
        tmp_path,
        telegram={"token": api.token, "base_url": api.base_url, "http_backend": "httpx"},
    )
    core = await build_core(settings)
    adapter = TelegramAdapter(settings.telegram, core.engine)
    assert type(adapter.application.bot.request).__name__ == "HTTPXRequest"
    await adapter.start()
    try:
        await api.send_text(PERSON, "/start")
        [reply] = await api.wait_for("sendMessage", 1)
        assert reply["chat_id"] == PERSON["id"]
    finally:
        await adapter.stop()
        await core.database.dispose()

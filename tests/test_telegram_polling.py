"""Long polling: nothing is confirmed before it is handled, and a slow update holds up no one.

Real python-telegram-bot, with the bot's own request backends, against the fake Bot API on
127.0.0.1. The handler here stands in for the dialogue: it records what it was given and
waits, for the texts a test holds, until the test lets them through.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
import pytest
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.adapters.telegram.aiohttp_request import AiohttpRequest
from bot.adapters.telegram.polling import REFILL_AT, DurablePolling, UnseenUpdatesRequest
from tests.fakes.telegram_api import FakeBotApi


def person(number: int) -> dict[str, Any]:
    return {"id": 9000 + number, "is_bot": False, "first_name": f"P{number}"}


class Handler:
    """Records the texts it handles; a held text waits until released."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []
        self._gates: dict[str, asyncio.Event] = {}
        self._changed = asyncio.Condition()

    def hold(self, text: str) -> asyncio.Event:
        self._gates[text] = asyncio.Event()
        return self._gates[text]

    def release(self, text: str) -> None:
        self._gates[text].set()

    async def __call__(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        text = update.effective_message.text or ""
        await self._note(self.started, text)
        if (gate := self._gates.get(text)) is not None:
            await gate.wait()
        await self._note(self.finished, text)

    async def until(self, condition: Callable[[], bool]) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(condition), 15)

    async def _note(self, where: list[str], text: str) -> None:
        async with self._changed:
            where.append(text)
            self._changed.notify_all()


PolledBot = tuple["Application[Any, Any, Any, Any, Any, Any]", UnseenUpdatesRequest, Handler]
"""The application, its getUpdates request, and the handler it hands updates to."""


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[PolledBot]:
    unseen = UnseenUpdatesRequest(AiohttpRequest(connection_pool_size=1))
    application = (
        Application.builder()
        .token(api.token)
        .base_url(api.base_url)
        .request(AiohttpRequest())
        .get_updates_request(unseen)
        .updater(None)
        .build()
    )
    handler = Handler()
    application.add_handler(MessageHandler(filters.TEXT, handler))
    await application.initialize()
    yield application, unseen, handler
    await application.shutdown()


def polling_of(bot: PolledBot) -> DurablePolling:
    application, unseen, _handler = bot
    return DurablePolling(application, [Update.MESSAGE], poll_timeout=1, unseen=unseen)


async def busy_start(
    api: FakeBotApi,
    bot: PolledBot,
    head: str,
) -> tuple[DurablePolling, int, list[asyncio.Event]]:
    """Polling started on a batch of 20 that shows people writing fast: ``head`` (held; its
    update_id is returned), ``REFILL_AT`` more held behind it, and 3 quick ones. Returns
    once all have started and the quick ones are done; the next fetch waits for the held
    ones behind the head, whose gates are returned."""
    handler = bot[2]
    handler.hold(head)
    head_id = await api.send_text(person(0), head)
    gates = [handler.hold(f"held {number}") for number in range(1, REFILL_AT + 1)]
    for number in range(1, REFILL_AT + 1):
        await api.send_text(person(number), f"held {number}")
    for number in range(REFILL_AT + 1, REFILL_AT + 4):
        await api.send_text(person(number), f"quick {number}")
    polling = polling_of(bot)
    polling.start()
    await handler.until(
        lambda: len(handler.started) == REFILL_AT + 4 == len(handler.finished) + REFILL_AT + 1
    )
    return polling, head_id, gates


async def test_others_are_answered_while_one_update_is_slow_and_it_stays_unconfirmed(
    api: FakeBotApi,
    bot: PolledBot,
) -> None:
    handler = bot[2]
    polling, slow_id, gates = await busy_start(api, bot, "slow")
    later = [f"later {number}" for number in range(1, 21)]
    for number, text in enumerate(later, start=100):
        await api.send_text(person(number), text)
    for gate in gates:
        gate.set()

    # Fetched while the slow update was still being handled, and answered.
    await handler.until(lambda: all(text in handler.finished for text in later))
    assert "slow" not in handler.finished
    first_poll, *later_polls = api.polls
    assert len(first_poll[1]) == REFILL_AT + 4
    assert later_polls
    assert [offset for offset, _sent in later_polls] == [slow_id] * len(later_polls)
    # Telegram sent the slow update again with them; it was not handled again.
    assert all(slow_id in sent for _offset, sent in later_polls)
    assert handler.started.count("slow") == 1

    handler.release("slow")
    await handler.until(lambda: "slow" in handler.finished)
    await polling.stop()
    assert handler.started.count("slow") == 1
    # Stopping confirmed everything: nothing would come again after a restart.
    assert api.polls[-1][0] == slow_id + REFILL_AT + 4 + len(later)


async def test_an_update_in_hand_when_polling_stops_is_finished_then_confirmed(
    api: FakeBotApi,
    bot: PolledBot,
) -> None:
    handler = bot[2]
    release = handler.hold("in hand")
    update_id = await api.send_text(person(1), "in hand")
    polling = polling_of(bot)
    polling.start()
    await handler.until(lambda: "in hand" in handler.started)

    stopping = asyncio.create_task(polling.stop())
    release.set()
    await stopping
    # Stopping cancelled the poll, not the update being handled.
    assert handler.finished == ["in hand"]
    assert api.polls[-1][0] == update_id + 1


async def test_a_person_s_next_message_waits_for_their_previous_one_across_fetches(
    api: FakeBotApi,
    bot: PolledBot,
) -> None:
    handler = bot[2]
    polling, _first_id, gates = await busy_start(api, bot, "first")
    await api.send_text(person(0), "second")
    await api.send_text(person(1000), "someone else")
    for gate in gates:
        gate.set()

    await handler.until(lambda: "someone else" in handler.finished)
    assert "second" not in handler.started
    handler.release("first")
    await handler.until(lambda: "second" in handler.finished)
    await polling.stop()
    mine = [text for text in handler.finished if text in {"first", "second"}]
    assert mine == ["first", "second"]


def test_updates_the_poller_has_are_dropped_before_they_are_parsed() -> None:
    unseen = UnseenUpdatesRequest(AiohttpRequest())
    payload = orjson.dumps({"ok": True, "result": [{"update_id": n} for n in (7, 8, 9)]})

    assert unseen.parse_json_payload(payload)["result"] == [
        {"update_id": 7},
        {"update_id": 8},
        {"update_id": 9},
    ]
    unseen.seen_up_to = 8
    assert unseen.parse_json_payload(payload)["result"] == [{"update_id": 9}]
    # Telegram's errors and other methods' results pass untouched.
    error = orjson.dumps({"ok": False, "error_code": 429, "description": "Too Many Requests"})
    assert unseen.parse_json_payload(error) == orjson.loads(error)
    assert unseen.parse_json_payload(orjson.dumps({"ok": True, "result": True})) == {
        "ok": True,
        "result": True,
    }

"""Replies sent in the background: each chat's in order, chats side by side, none lost."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.adapters.telegram.chat_queues import ChatQueues


async def test_a_chats_sends_keep_their_order_and_other_chats_do_not_wait() -> None:
    queues = ChatQueues()
    done: list[str] = []
    first_may_end, other_sent = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        done.append("first begun")
        await first_may_end.wait()
        done.append("first")

    async def second() -> None:
        done.append("second")

    async def other_chat() -> None:
        done.append("other chat")
        other_sent.set()

    await queues.add(7, first, wait_up_to=0)
    await queues.add(7, second, wait_up_to=0)
    await queues.add(8, other_chat, wait_up_to=0)
    await other_sent.wait()
    assert done == ["first begun", "other chat"]
    first_may_end.set()
    await queues.drain()
    assert done == ["first begun", "other chat", "first", "second"]


async def test_a_send_that_ends_quickly_has_ended_when_add_returns() -> None:
    """The poller confirms a batch whose replies went out, as it always did."""
    queues = ChatQueues()
    sent: list[str] = []

    async def quick() -> None:
        await asyncio.sleep(0)
        sent.append("sent")

    await queues.add(7, quick)
    assert sent == ["sent"]


async def test_a_failed_send_is_logged_and_the_chats_next_one_still_goes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    queues = ChatQueues()
    sent: list[str] = []

    async def failing() -> None:
        raise RuntimeError("Telegram said no")

    async def next_one() -> None:
        sent.append("next")

    await queues.add(7, failing, wait_up_to=0)
    await queues.add(7, next_one, wait_up_to=0)
    await queues.drain()
    assert sent == ["next"]
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.message == "sending replies failed"
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "Telegram said no"


async def test_when_too_many_sends_wait_the_next_one_is_taken_only_as_one_ends() -> None:
    queues = ChatQueues(max_in_flight=1)
    may_end = asyncio.Event()

    async def slow() -> None:
        await may_end.wait()

    async def quick() -> None:
        pass

    await queues.add(7, slow, wait_up_to=0)
    adding = asyncio.create_task(queues.add(8, quick, wait_up_to=0))
    for _ in range(5):
        await asyncio.sleep(0)  # let everything ready run: the add still waits
    assert not adding.done()
    may_end.set()
    await adding
    await queues.drain()

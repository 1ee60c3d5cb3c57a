"""The bot's event loop: uvloop when chosen and installed, asyncio's own otherwise."""

from __future__ import annotations

import asyncio
import logging
import sys

import pytest

from bot import event_loop


async def loop_module() -> str:
    """Where the running loop's class comes from."""
    return type(asyncio.get_running_loop()).__module__


def test_uvloop_runs_the_bot_when_chosen() -> None:
    assert event_loop.run(loop_module(), "uvloop").startswith("uvloop")


def test_asyncio_runs_the_bot_when_chosen() -> None:
    assert event_loop.run(loop_module(), "asyncio").startswith("asyncio")


def test_without_uvloop_the_bot_runs_on_asyncio_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop now raises ImportError

    with caplog.at_level(logging.WARNING, logger="bot.event_loop"):
        module = event_loop.run(loop_module(), "uvloop")

    assert module.startswith("asyncio")
    assert caplog.messages == ["uvloop is not installed: running on asyncio's own event loop"]


def test_the_result_and_errors_of_the_main_coroutine_come_back() -> None:
    async def fails() -> None:
        raise LookupError("from inside the loop")

    async def answers() -> int:
        return 42

    assert event_loop.run(answers(), "uvloop") == 42
    with pytest.raises(LookupError, match="from inside the loop"):
        event_loop.run(fails(), "uvloop")

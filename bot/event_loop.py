"""The event loop the bot runs on: uvloop where it is installed, else asyncio's own.

Under load the bot's process is bound by one core, and a good part of that core goes to the
loop itself: a socket registered and unregistered for every database round trip, a callback
for every HTTP response. uvloop does that work in C; ``bench.capacity`` measured 10-12 % less
CPU per message with it. asyncio's loop stays a setting away, and is what runs where uvloop
cannot be installed (it has no Windows build).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
LoopChoice = Literal["uvloop", "asyncio"]


def loop_factory(choice: LoopChoice) -> Callable[[], asyncio.AbstractEventLoop]:
    """What makes the chosen loop; asyncio's, with a warning, when uvloop is missing."""
    if choice == "uvloop":
        try:
            uvloop = importlib.import_module("uvloop")
        except ImportError:
            log.warning("uvloop is not installed: running on asyncio's own event loop")
        else:
            factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
            return factory
    return asyncio.new_event_loop


def run(main: Coroutine[Any, Any, T], choice: LoopChoice) -> T:
    """``asyncio.run(main)`` on the chosen loop."""
    with asyncio.Runner(loop_factory=loop_factory(choice)) as runner:
        return runner.run(main)

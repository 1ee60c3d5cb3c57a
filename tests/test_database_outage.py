"""PostgreSQL briefly gone (a restart cuts every connection): a message is handled once the
server is back, or the person is told to try again; nothing is half-written.

The bot reaches the real server on 127.0.0.1:5432 through a proxy the test cuts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.adapters.telegram import TelegramAdapter
from bot.app import Core, build_core
from bot.core.messages import Channel, Inbound, Reply
from bot.core.outages import StorageUnavailableError
from bot.core.staff import StaffAction, StaffCommand
from bot.core.staff_screens import CLOSED, SENT
from bot.core.tickets import Delivery, DeliveryFailure, PersonAddress, StaffMember
from bot.storage.models import Person, ProcessedEvent
from bot.storage.pending_replies import SqlPendingReplies
from tests.conftest import make_settings
from tests.fakes.tcp_proxy import CuttableProxy
from tests.fakes.telegram_api import FakeBotApi

START = datetime(2026, 11, 2, 10, tzinfo=UTC)
OLENA = {"id": 31337, "is_bot": False, "first_name": "Olena", "language_code": "uk"}
QUESTION = "Як отримати PESEL?"
CASE = "Хочу поговорити з людиною: роботодавець не платить мені зарплату два місяці"


def event(number: int, text: str) -> Inbound:
    return Inbound(
        Channel.TELEGRAM,
        "7001",
        f"event-{number}",
        START + timedelta(seconds=number),
        text=text,
        language_hint="uk",
    )


async def count(core: Core, model: type[ProcessedEvent] | type[Person]) -> int:
    async with core.database.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(model)) or 0)


async def reference(tmp_path: Path, texts: list[str]) -> list[list[Reply]]:
    """The same conversation with a database that never went away."""
    core = await build_core(make_settings(tmp_path / "reference"))
    try:
        return [await core.engine.handle(event(n, text)) for n, text in enumerate(texts)]
    finally:
        await core.database.dispose()


async def test_a_message_sent_during_a_restart_is_answered_when_the_server_is_back(
    tmp_path: Path, core_via_proxy: Core, proxy: CuttableProxy
) -> None:
    core = core_via_proxy
    expected = await reference(tmp_path, ["/start", QUESTION])
    assert await core.engine.handle(event(0, "/start")) == expected[0]  # a pooled connection now
    proxy.cut()
    handling = asyncio.create_task(core.engine.handle(event(1, QUESTION)))
    await proxy.wait_refused(2)  # the engine is waiting the outage out
    proxy.restore()
    assert await handling == expected[1]
    assert await count(core, ProcessedEvent) == 2
    assert await core.engine.handle(event(1, QUESTION)) == [], "handled once, not again"


async def test_an_outage_that_lasts_fails_the_event_whole_and_a_retry_is_handled_fresh(
    tmp_path: Path, core_via_proxy: Core, proxy: CuttableProxy
) -> None:
    core = core_via_proxy
    core.engine.outage_delays = (0.01, 0.01)
    expected = await reference(tmp_path, [QUESTION])
    proxy.cut()
    with pytest.raises(StorageUnavailableError):
        await core.engine.handle(event(0, QUESTION))
    proxy.restore()
    assert (await count(core, ProcessedEvent), await count(core, Person)) == (0, 0)
    assert await core.engine.handle(event(0, QUESTION)) == expected[0]


async def test_on_telegram_the_person_is_told_to_try_again_and_then_answered(
    api: FakeBotApi, core_via_proxy: Core, proxy: CuttableProxy, tmp_path: Path
) -> None:
    core = core_via_proxy
    core.engine.outage_delays = (0.01, 0.01)
    settings = make_settings(
        tmp_path, telegram={"token": api.token, "base_url": api.base_url, "rate_limit": False}
    )
    adapter = TelegramAdapter(settings.telegram, core.engine)
    await adapter.start()
    try:
        proxy.cut()
        await api.send_text(OLENA, QUESTION)
        [apology] = await api.wait_for("sendMessage", 1)
        assert apology["text"] == (
            "Вибачте, у мене щось пішло не так. Спробуйте, будь ласка, ще раз за хвилину."
        )
        proxy.restore()
        await api.send_text(OLENA, QUESTION)
        async with api._changed:
            await asyncio.wait_for(
                api._changed.wait_for(lambda: any("PESEL" in m["text"] for m in api.sent())), 15
            )
    finally:
        await adapter.stop()


async def test_a_delivery_settled_during_a_restart_is_recorded_when_the_server_is_back(
    core_via_proxy: Core, proxy: CuttableProxy
) -> None:
    core = core_via_proxy
    ledger = SqlPendingReplies(core.database)
    replies = await core.engine.handle(replace(event(0, QUESTION), address="7001"))
    assert len(replies) >= 2
    proxy.cut()
    # The first reply went out; the others are still to send when the server goes away.
    settling = asyncio.create_task(ledger.settle(Channel.TELEGRAM, "event-0", replies[1:]))
    await proxy.wait_refused(2)
    proxy.restore()
    await settling
    [left] = await ledger.undelivered(Channel.TELEGRAM)
    assert left.replies == replies[1:]


ANNA = StaffMember("telegram:501", "Anna Nowak")


async def open_ticket(core: Core) -> int:
    """Olena asks for a person and describes her case; the new ticket's number."""
    await core.engine.handle(replace(event(0, "/start"), address="7001"))
    await core.engine.handle(replace(event(1, ""), text=None, choice="lang:uk", address="7001"))
    await core.engine.handle(replace(event(2, ""), text=None, choice="human", address="7001"))
    await core.engine.handle(replace(event(3, CASE), address="7001"))
    [ticket] = await core.tickets.open_tickets()
    return ticket.number


@dataclass
class CuttingMessenger:
    """Delivers a staff answer, and the database goes away right after."""

    proxy: CuttableProxy
    sent: list[str] = field(default_factory=list)

    async def send(
        self, to: PersonAddress, replies: list[Reply], key: str | None = None
    ) -> DeliveryFailure | None:
        self.sent += [reply.text for reply in replies]
        self.proxy.cut()
        return None


async def test_a_staff_answer_settled_during_a_restart_is_marked_when_the_server_is_back(
    core_via_proxy: Core, proxy: CuttableProxy
) -> None:
    """Left pending, the answer would be sent a second time at the next start."""
    core = core_via_proxy
    messenger = CuttingMessenger(proxy)
    core.people.channels[Channel.TELEGRAM] = messenger
    number = await open_ticket(core)
    answering = asyncio.create_task(
        core.staff.act(StaffAction(ANNA, StaffCommand.REPLY, number, "Proszę przyjść."), START)
    )
    await proxy.wait_refused(2)  # the answer went out; its settling waits the outage out
    proxy.restore()
    assert await answering == core.staff.screens.said(SENT, number=number)
    assert await core.tickets.pending_replies() == []
    shown = await core.tickets.view(number)
    assert shown is not None
    assert shown.lines[-1].delivery is Delivery.DELIVERED
    assert len(messenger.sent) == 1


async def test_a_staff_command_during_a_restart_is_carried_out_when_the_server_is_back(
    core_via_proxy: Core, proxy: CuttableProxy
) -> None:
    """Staff commands wait the outage out as the person's messages do, rather than fail."""
    core = core_via_proxy
    number = await open_ticket(core)
    proxy.cut()
    closing = asyncio.create_task(
        core.staff.act(StaffAction(ANNA, StaffCommand.CLOSE, number), START)
    )
    await proxy.wait_refused(2)
    proxy.restore()
    assert await closing == core.staff.screens.said(CLOSED, number=number)
    assert await core.tickets.open_tickets() == []

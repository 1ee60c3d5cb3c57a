"""A COMMIT whose answer never came back: the server kept the work, and the bot cannot know.

The event or staff command is tried again (as for any outage) and finds its own work already
done. It must then finish that work and say what was done: answer the person, show the ticket
to staff, send the staff answer, rather than say nothing, "already handled" or "not open".
The bot reaches the real PostgreSQL through a proxy that lets one COMMIT through and drops the
connection before the server's answer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import Core, build_core
from bot.core.messages import Channel, Inbound, Reply
from bot.core.staff import StaffAction, StaffCommand
from bot.core.staff_screens import CLOSED, SENT, TAKEN
from bot.core.tickets import (
    Delivery,
    DeliveryFailure,
    PersonAddress,
    ShownCard,
    StaffMember,
    TicketView,
)
from tests.conftest import make_settings
from tests.fakes.tcp_proxy import CuttableProxy

START = datetime(2026, 11, 2, 10, tzinfo=UTC)
ANNA = StaffMember("telegram:501", "Anna Nowak")
CASE = "Хочу поговорити з людиною: роботодавець не платить мені зарплату два місяці"


@dataclass
class Messenger:
    """The person's chat, as the staff desk sees it."""

    sent: list[str] = field(default_factory=list)

    async def send(
        self, to: PersonAddress, replies: list[Reply], key: str | None = None
    ) -> DeliveryFailure | None:
        self.sent += [reply.text for reply in replies]
        return None


def olena(number: int, text: str | None = None, choice: str | None = None) -> Inbound:
    at = START + timedelta(seconds=number)
    return Inbound(
        Channel.TELEGRAM,
        "7001",
        f"event-{number}",
        at,
        text=text,
        choice=choice,
        language_hint="uk",
        address="7001",
    )


HAND_OFF = [
    olena(0, "/start"),
    olena(1, choice="lang:uk"),
    olena(2, choice="human"),
    olena(3, CASE),
]
"""Olena asks for a person and describes her case."""


async def open_ticket(core: Core) -> tuple[int, Messenger]:
    """The hand-off: the ticket, and Olena's chat."""
    messenger = Messenger()
    core.people.channels[Channel.TELEGRAM] = messenger
    for inbound in HAND_OFF:
        await core.engine.handle(inbound)
    [ticket] = await core.tickets.open_tickets()
    messenger.sent.clear()
    return ticket.number, messenger


@dataclass
class Board:
    """A staff board that notes which tickets it was shown."""

    shown: list[int] = field(default_factory=list)

    async def publish(self, ticket: TicketView) -> None:
        self.shown.append(ticket.number)

    async def remind(self, tickets: list[TicketView]) -> None: ...

    async def notify(self, notice: Reply) -> None: ...

    async def maybe_behind(self) -> dict[int, ShownCard]:
        return {}


async def test_a_message_whose_commit_was_not_confirmed_is_answered_at_once(
    core_via_proxy: Core, proxy: CuttableProxy, tmp_path: Path
) -> None:
    """Else the retry found the event claimed and answered nothing: the replies, held with
    the event, waited for the bot's next start. A ticket it opened reached no board."""
    reference = await build_core(make_settings(tmp_path / "reference"))
    try:
        expected = [await reference.engine.handle(inbound) for inbound in HAND_OFF]
    finally:
        await reference.database.dispose()
    core = core_via_proxy
    board = Board()
    core.boards.boards.append(board)
    for inbound, replies in zip(HAND_OFF[:-1], expected, strict=False):
        assert await core.engine.handle(inbound) == replies
    proxy.lose_next_commit_answer()
    assert await core.engine.handle(HAND_OFF[-1]) == expected[-1]
    assert proxy.commits_lost == 1
    [ticket] = await core.tickets.open_tickets()
    assert board.shown == [ticket.number]
    assert await core.engine.handle(HAND_OFF[-1]) == [], "handled once, not again"


async def test_an_answer_whose_commit_was_not_confirmed_is_sent_at_once(
    core_via_proxy: Core, proxy: CuttableProxy
) -> None:
    """Else it waited, pending, for the bot's next start, while staff read "already handled"."""
    core = core_via_proxy
    number, messenger = await open_ticket(core)
    proxy.lose_next_commit_answer()
    answer = StaffAction(ANNA, StaffCommand.REPLY, number, "Proszę przyjść.", ("telegram", "77"))
    said = await core.staff.act(answer, START)
    assert proxy.commits_lost == 1
    assert said == core.staff.screens.said(SENT, number=number)
    assert messenger.sent == ["Працівник Інформаційного пункту: Proszę przyjść."]
    assert await core.tickets.pending_replies() == []
    shown = await core.tickets.view(number)
    assert shown is not None
    assert [line.delivery for line in shown.lines if line.text == "Proszę przyjść."] == [
        Delivery.DELIVERED
    ]
    # The staff message delivered again later is still not sent twice.
    await core.staff.act(answer, START)
    assert len(messenger.sent) == 1


async def test_a_close_whose_commit_was_not_confirmed_is_reported_and_finished(
    core_via_proxy: Core, proxy: CuttableProxy
) -> None:
    """Else staff read "not open", and the person was never asked whether we helped."""
    core = core_via_proxy
    number, messenger = await open_ticket(core)
    proxy.lose_next_commit_answer()
    said = await core.staff.act(StaffAction(ANNA, StaffCommand.CLOSE, number), START)
    assert proxy.commits_lost == 1
    assert said == core.staff.screens.said(CLOSED, number=number)
    assert len(messenger.sent) == 1  # the rating question
    assert await core.tickets.open_tickets() == []


async def test_a_take_whose_commit_was_not_confirmed_is_reported_as_taken(
    core_via_proxy: Core, proxy: CuttableProxy
) -> None:
    core = core_via_proxy
    number, _ = await open_ticket(core)
    proxy.lose_next_commit_answer()
    said = await core.staff.act(StaffAction(ANNA, StaffCommand.TAKE, number), START)
    assert proxy.commits_lost == 1
    assert said == core.staff.screens.said(TAKEN, number=number)


async def test_a_reply_is_not_sent_again_by_the_start_up_retry_while_it_is_on_its_way(
    core_via_proxy: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At start, the messengers already take staff messages while the answers a crash left
    pending are sent: a new answer, stored and on its way, is pending for that moment."""
    core = core_via_proxy
    number, _ = await open_ticket(core)
    slow = SlowMessenger()
    core.people.channels[Channel.TELEGRAM] = slow
    answer = StaffAction(ANNA, StaffCommand.REPLY, number, "Proszę przyjść.", ("telegram", "78"))
    answering = asyncio.create_task(core.staff.act(answer, START))
    await slow.sending.wait()
    read = asyncio.Event()
    pending_replies = core.tickets.pending_replies

    async def pending_then_tell() -> list[tuple[int, int, str]]:
        found = await pending_replies()
        read.set()
        return found

    monkeypatch.setattr(core.tickets, "pending_replies", pending_then_tell)
    retrying = asyncio.create_task(core.staff.retry_pending(START))
    await read.wait()  # the retry has found the answer pending
    slow.go_on.set()
    assert await answering == core.staff.screens.said(SENT, number=number)
    assert await retrying == 0
    assert slow.sent == ["Працівник Інформаційного пункту: Proszę przyjść."]


@dataclass
class SlowMessenger(Messenger):
    """Holds the first send until the test lets it go on."""

    sending: asyncio.Event = field(default_factory=asyncio.Event)
    go_on: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(
        self, to: PersonAddress, replies: list[Reply], key: str | None = None
    ) -> DeliveryFailure | None:
        self.sending.set()
        await self.go_on.wait()
        return await super().send(to, replies)

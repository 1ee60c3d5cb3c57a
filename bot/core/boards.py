"""Fan-out to wherever staff and people are: every staff board, and each person's channel."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.core.messages import Reply
from bot.core.tickets import (
    DeliveryFailure,
    PersonAddress,
    PersonOutbox,
    TicketBoard,
    TicketLine,
    TicketStore,
    TicketView,
)

log = logging.getLogger(__name__)


@dataclass(slots=True)
class StaffBoards:
    """Implements TicketEvents: shows each change on every board; one failing board does not
    keep the change from the others."""

    store: TicketStore
    boards: list[TicketBoard] = field(default_factory=list)

    async def changed(self, number: int, news: TicketLine | None) -> None:
        view = await self.store.view(number)
        if view is None:
            return
        for board in self.boards:
            try:
                await board.publish(view, news)
            except Exception:
                log.exception("a staff board could not show ticket #%d", number)

    async def remind(self, tickets: list[TicketView]) -> None:
        for board in self.boards:
            try:
                await board.remind(tickets)
            except Exception:
                log.exception("a staff board could not show a reminder")

    async def notify(self, notice: Reply) -> None:
        """Post ``notice`` on every board; one failing board does not keep it from the others."""
        for board in self.boards:
            try:
                await board.notify(notice)
            except Exception:
                log.exception("a staff board could not show a notice")


@dataclass(slots=True)
class PersonRouter:
    """Implements PersonOutbox by handing each message to the person's own channel."""

    channels: dict[str, PersonOutbox] = field(default_factory=dict)

    async def send(self, to: PersonAddress, replies: list[Reply]) -> DeliveryFailure | None:
        outbox = self.channels.get(to.channel)
        if outbox is None:
            return DeliveryFailure(f"the bot is not connected to {to.channel} now", False)
        return await outbox.send(to, replies)

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


async def post_missing_cards(board: TicketBoard, store: TicketStore) -> int:
    """Post the card of every open ticket that ``board`` does not show; returns how many.

    A ticket is committed before its card is posted, so a crash between the two, or a board
    that was down, leaves a ticket staff cannot see. Adapters call this as they start.
    """
    posted = 0
    for ticket in await store.open_tickets():
        if await board.has_card(ticket.number):
            continue
        whole = await store.view(ticket.number)  # with the conversation, as cards show it
        if whole is not None:
            await board.publish(whole, None)
            posted += 1
    if posted:
        log.info("posted the cards of %d open tickets that staff could not see", posted)
    return posted


@dataclass(slots=True)
class PersonRouter:
    """Implements PersonOutbox by handing each message to the person's own channel."""

    channels: dict[str, PersonOutbox] = field(default_factory=dict)

    async def send(self, to: PersonAddress, replies: list[Reply]) -> DeliveryFailure | None:
        outbox = self.channels.get(to.channel)
        if outbox is None:
            return DeliveryFailure(f"the bot is not connected to {to.channel} now", False)
        return await outbox.send(to, replies)

"""Fan-out to wherever staff and people are: every staff board, and each person's channel."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.core.locks import KeyedLocks
from bot.core.messages import Reply
from bot.core.tickets import (
    DeliveryFailure,
    PersonAddress,
    PersonOutbox,
    ShownCard,
    TicketBoard,
    TicketStore,
    TicketView,
    card_digest,
)

log = logging.getLogger(__name__)


@dataclass(slots=True)
class StaffBoards:
    """Implements TicketEvents: shows each change on every board; one failing board does not
    keep the change from the others, and is brought up to date later (``catch_up``).

    A ticket changes before its cards do, so a crash between the two, or a board that was
    down, leaves staff a card that is missing or behind: a ticket they cannot see, a closed
    one still offered to take, a message of the person they were never notified of. Each
    board notes what its cards show; ``refresh`` compares that with the tickets.
    """

    store: TicketStore
    boards: list[TicketBoard] = field(default_factory=list)
    _showing: KeyedLocks[int] = field(default_factory=KeyedLocks)
    """One update of a ticket's cards at a time, each loading the ticket afresh: two changes
    in quick succession must not leave the card showing the first."""
    _behind: list[TicketBoard] = field(default_factory=list)
    """Boards that failed to show a change since they were last brought up to date."""

    async def changed(self, number: int) -> None:
        async with self._showing.hold(number):
            try:
                view = await self.store.view(number)
            except Exception:
                self._behind = list(self.boards)
                raise
            if view is None:
                return
            for board in self.boards:
                try:
                    await board.publish(view)
                except Exception:
                    log.exception("a staff board could not show ticket #%d", number)
                    self._fell_behind(board)

    async def refresh(self, board: TicketBoard) -> int:
        """Bring ``board`` up to date with the tickets: post the card of each open ticket it
        does not show, update each card behind its ticket, and post under it the person's
        messages it missed. Returns how many cards it posted or updated."""
        self._behind = [other for other in self._behind if other is not board]
        updated = 0
        try:
            shown = await board.maybe_behind()
            numbers = [ticket.number for ticket in await self.store.open_tickets()]
        except Exception:
            log.exception("a staff board could not be brought up to date")
            self._fell_behind(board)
            return 0
        numbers += sorted(shown.keys() - set(numbers))
        for number in numbers:
            # One card that cannot be shown does not keep the others behind.
            try:
                async with self._showing.hold(number):
                    updated += await _bring_up_to_date(board, self.store, number, shown)
            except Exception:
                log.exception("a staff board could not show ticket #%d", number)
                self._fell_behind(board)
        if updated:
            log.info("brought %d ticket cards up to date on a staff board", updated)
        return updated

    async def catch_up(self) -> int:
        """Refresh the boards that failed to show a change; how many cards were updated."""
        return sum([await self.refresh(board) for board in list(self._behind)])

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

    def _fell_behind(self, board: TicketBoard) -> None:
        if not any(other is board for other in self._behind):
            self._behind.append(board)


async def _bring_up_to_date(
    board: TicketBoard, store: TicketStore, number: int, shown: dict[int, ShownCard]
) -> int:
    """Update the ticket's card on ``board`` unless it is up to date; 1 if it was updated."""
    ticket = await store.view(number)  # loaded under the ticket's lock: the latest
    card = shown.get(number)
    if ticket is None or (card is not None and card.digest == card_digest(ticket)):
        return 0
    await board.publish(ticket)
    return 1


@dataclass(slots=True)
class PersonRouter:
    """Implements PersonOutbox by handing each message to the person's own channel."""

    channels: dict[str, PersonOutbox] = field(default_factory=dict)

    async def send(
        self, to: PersonAddress, replies: list[Reply], key: str | None = None
    ) -> DeliveryFailure | None:
        outbox = self.channels.get(to.channel)
        if outbox is None:
            return DeliveryFailure(f"the bot is not connected to {to.channel} now", False)
        return await outbox.send(to, replies, key)

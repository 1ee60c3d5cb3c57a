"""The messages of one staff board that show tickets, and what each card last showed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.core.tickets import ShownCard, TicketView, card_digest
from bot.storage.models import Ticket, TicketCard
from bot.storage.outages import waits_out_outages
from bot.storage.person_tickets import OPEN


class BoardCards:
    """The cards of one board in one chat (the Telegram staff group, the Matrix staff room):
    each ticket's card, edited in place, and the messages posted under it."""

    def __init__(self, engine: AsyncEngine, board: str, chat: str) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._board = board
        self._chat = chat

    @waits_out_outages
    async def card(self, number: int) -> tuple[str, ShownCard] | None:
        """The ticket's card here, if it was posted: its message id, and what it showed."""
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(TicketCard.message, TicketCard.shown_digest, TicketCard.shown_lines)
                    .where(self._here(), TicketCard.ticket_id == number)
                    .limit(1)
                )
            ).first()
            return None if row is None else (row[0], ShownCard(row[1], row[2]))

    @waits_out_outages
    async def add_card(
        self, ticket: TicketView, message: str, *, replacing: str | None = None
    ) -> None:
        """Note the card just posted as ``message``, showing ``ticket``. The card it replaces
        (``replacing``, deleted from the chat) is kept as a message under the ticket's card:
        a reply to it still reaches the ticket."""
        async with self._sessions() as session, session.begin():
            if replacing is not None:
                await session.execute(
                    update(TicketCard)
                    .where(self._here(), TicketCard.message == replacing)
                    .values(is_card=False)
                )
            session.add(
                TicketCard(
                    ticket_id=ticket.number,
                    board=self._board,
                    chat=self._chat,
                    message=message,
                    is_card=True,
                    **_shown(ticket),
                )
            )

    @waits_out_outages
    async def add_follow_up(self, number: int, message: str) -> None:
        """Note a message posted under the ticket's card: a reply to it answers the person."""
        async with self._sessions() as session, session.begin():
            session.add(
                TicketCard(
                    ticket_id=number,
                    board=self._board,
                    chat=self._chat,
                    message=message,
                    is_card=False,
                )
            )

    @waits_out_outages
    async def ticket_of(self, message: str) -> int | None:
        """The ticket whose card, or a message under it, ``message`` is."""
        async with self._sessions() as session:
            return await session.scalar(
                select(TicketCard.ticket_id).where(
                    TicketCard.board == self._board,
                    TicketCard.chat == self._chat,
                    TicketCard.message == message,
                )
            )

    @waits_out_outages
    async def mark_shown(self, ticket: TicketView) -> None:
        """Note that the card, and the person's messages under it, now show ``ticket``.

        A slower update that loaded the ticket earlier does not overwrite a later one's
        note with fewer messages: the later messages would be posted under the card again.
        """
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(TicketCard)
                .where(
                    self._here(),
                    TicketCard.ticket_id == ticket.number,
                    or_(
                        TicketCard.shown_lines.is_(None),
                        TicketCard.shown_lines <= len(ticket.lines),
                    ),
                )
                .values(**_shown(ticket))
            )

    @waits_out_outages
    async def maybe_behind(self) -> dict[int, ShownCard]:
        """What the cards that may be behind their tickets last showed: those of open
        tickets, and those last shown open (a closing the board never showed)."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(TicketCard.ticket_id, TicketCard.shown_digest, TicketCard.shown_lines)
                .join(Ticket, Ticket.id == TicketCard.ticket_id)
                .where(self._here(), or_(Ticket.status == OPEN, TicketCard.shown_open.is_(True)))
            )
            return {number: ShownCard(digest, lines) for number, digest, lines in rows}

    def _here(self) -> ColumnElement[bool]:
        """This board's cards (not the messages posted under them)."""
        return and_(
            TicketCard.board == self._board, TicketCard.chat == self._chat, TicketCard.is_card
        )


def _shown(ticket: TicketView) -> dict[str, Any]:
    """The columns that note a card showing ``ticket``."""
    return {
        "shown_digest": card_digest(ticket),
        "shown_lines": len(ticket.lines),
        "shown_open": ticket.open,
    }

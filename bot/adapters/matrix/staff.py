"""Matrix for staff: ticket cards in the staff room, ``!take``/``!reply``/``!close``/
``!tickets`` there, and staff answers to people in their direct chats.

Who is staff is checked on every command: a joined member of the staff room with at least
the configured power level, or a listed user id.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any, Final

from nio import AsyncClient, RoomMessageText

from bot.adapters.matrix.rendering import (
    BangCommands,
    edit_of,
    fitted,
    in_reply_to,
    notice,
    without_reply_fallback,
)
from bot.adapters.matrix.rooms import MatrixSendError, RoomSender, reply_transaction
from bot.core.messages import Channel, Reply
from bot.core.staff import StaffAction, StaffCommand, StaffDesk
from bot.core.staff_screens import NOT_STAFF, StaffScreens
from bot.core.tickets import (
    MAX_TICKET_NUMBER,
    DeliveryFailure,
    PersonAddress,
    ShownCard,
    StaffMember,
    TicketView,
    not_yet_posted,
)
from bot.core.typed import bounded_number
from bot.storage.tickets import SqlTicketStore

log = logging.getLogger(__name__)

BOARD: Final = "matrix"
CREATE: Final = "m.room.create"
_COMMAND = re.compile(r"^[!/](\w+)(?:\s+#?(\d+))?(?:\s+(.*))?$", re.DOTALL)
_COMMANDS: Final = {command.value: command for command in StaffCommand}
STAFF_COMMANDS: Final = BangCommands(_COMMANDS)


def board_notice(reply: Reply) -> dict[str, Any]:
    """A card's buttons as the commands that do the same: "Take: !take 12"."""
    commands = []
    for option in reply.options:
        _, number, verb = [*option.id.split(":"), "", ""][:3]
        commands.append(f"{option.label}: !{verb} {number}")
    shown = STAFF_COMMANDS.shown(Reply(reply.text, reply.language, title=reply.title))
    content = notice(shown)
    if commands:
        content["body"] += "\n\n" + " · ".join(commands)
        content["formatted_body"] += "<br><br>" + " · ".join(
            f"<code>{command.split(': ', 1)[1]}</code>" for command in commands
        )
    return content


class MatrixPeople:
    """PersonOutbox for Matrix: staff answers to the person's direct chat."""

    def __init__(self, sender: RoomSender) -> None:
        self._sender = sender

    async def send(
        self, to: PersonAddress, replies: list[Reply], key: str | None = None
    ) -> DeliveryFailure | None:
        room = self._sender.client.rooms.get(to.address)
        if room is not None and room.joined_count <= 1 and not room.invited_count:
            return DeliveryFailure("the person left the chat with the bot", True)
        contents = [content for reply in replies for content in fitted(reply)]
        try:
            for index, content in enumerate(contents):
                # Sent again after a crash, each part goes under the id it first went under.
                left = len(contents) - index
                transaction = None if key is None else reply_transaction(key, left)
                await self._sender.send(to.address, content, transaction)
        except MatrixSendError as error:
            return DeliveryFailure(f"Matrix: {error.reason}", error.permanent)
        return None


class MatrixStaffBoard:
    """TicketBoard in the staff room: one card per ticket, edited in place (``m.replace``),
    and each of the person's new messages posted as a reply to it so that staff are notified."""

    def __init__(
        self, sender: RoomSender, room_id: str, store: SqlTicketStore, screens: StaffScreens
    ) -> None:
        self._sender = sender
        self._room_id = room_id
        self._cards = store.cards(BOARD, room_id)
        self._screens = screens

    async def publish(self, ticket: TicketView) -> None:
        content = board_notice(self._screens.card(ticket, datetime.now(UTC)))
        posted = await self._cards.card(ticket.number)
        if posted is None:
            await self._cards.add_card(ticket, await self._sender.send(self._room_id, content))
            return  # a new card shows the newest messages itself
        anchor, shown = posted
        await self._sender.send(self._room_id, edit_of(anchor, content))
        for line in not_yet_posted(ticket, shown):
            note = notice(STAFF_COMMANDS.shown(self._screens.news(ticket, line)))
            sent = await self._sender.send(self._room_id, in_reply_to(anchor, note))
            await self._cards.add_follow_up(ticket.number, sent)
        await self._cards.mark_shown(ticket)

    async def maybe_behind(self) -> dict[int, ShownCard]:
        return await self._cards.maybe_behind()

    async def remind(self, tickets: list[TicketView]) -> None:
        reminder = self._screens.reminder(tickets, datetime.now(UTC))
        for content in fitted(reminder, board_notice):
            await self._sender.send(self._room_id, content)

    async def notify(self, notice: Reply) -> None:
        for content in fitted(notice, board_notice):
            await self._sender.send(self._room_id, content)


class StaffRoom:
    """Turns commands and replies to cards in the staff room into StaffActions."""

    def __init__(
        self,
        desk: StaffDesk,
        store: SqlTicketStore,
        sender: RoomSender,
        room_id: str,
        *,
        staff_ids: frozenset[str],
        power_level: int,
    ) -> None:
        self._desk = desk
        self._store = store
        self._sender = sender
        self.room_id = room_id
        self._staff_ids = staff_ids
        self._power_level = power_level
        self._creator_ids: frozenset[str] | None = None

    async def is_staff(self, user_id: str) -> bool:
        if user_id in self._staff_ids:
            return True
        room = self._client.rooms.get(self.room_id)
        if room is None or user_id not in room.users or user_id in room.invited_users:
            return False
        if user_id in await self._creators() and user_id not in room.power_levels.users:
            return True  # room version 12: creators outrank every level and are not listed
        return int(room.power_levels.get_user_level(user_id)) >= self._power_level

    async def _creators(self) -> frozenset[str]:
        """The room's creators (its create event never changes, so it is read once)."""
        if self._creator_ids is None:
            # The whole state, not the create event alone: only the full event has its sender.
            state = await self._client.room_get_state(self.room_id)
            events = getattr(state, "events", None)
            create = next(
                (e for e in events or [] if isinstance(e, dict) and e.get("type") == CREATE),
                None,
            )
            if create is None:
                return frozenset()  # not cached: asked again next time
            content = create.get("content") or {}
            creators = {create.get("sender"), content.get("creator")}
            creators.update(content.get("additional_creators") or [])
            self._creator_ids = frozenset(c for c in creators if isinstance(c, str))
        return self._creator_ids

    async def on_message(self, event: RoomMessageText) -> None:
        """A message in the staff room: a command, or a reply to a ticket's card."""
        action = await self._action_of(event)
        if action is None:
            return  # staff talking among themselves
        if not await self.is_staff(event.sender):
            log.warning("refused a staff command from a non-staff Matrix user")
            await self._answer(event, self._desk.screens.said(NOT_STAFF))
            return
        await self._answer(event, await self._desk.act(action, datetime.now(UTC)))

    @property
    def _client(self) -> AsyncClient:
        return self._sender.client

    async def _action_of(self, event: RoomMessageText) -> StaffAction | None:
        room = self._client.rooms.get(self.room_id)
        name = (room.user_name(event.sender) if room else None) or event.sender
        staff = StaffMember(f"matrix:{event.sender}", name)
        source = (Channel.MATRIX.value, event.event_id)
        text = without_reply_fallback(event.body).strip()
        found = _COMMAND.match(text)
        if found is not None:
            command = _COMMANDS.get(found.group(1).lower())
            if command is None:
                return None
            # A number past the last ticket's is refused as no such ticket, however long.
            number = bounded_number(found.group(2) or "", MAX_TICKET_NUMBER + 1)
            return StaffAction(staff, command, number, found.group(3), source)
        relates = event.source.get("content", {}).get("m.relates_to") or {}
        replied = (relates.get("m.in_reply_to") or {}).get("event_id")
        if not isinstance(replied, str):
            return None
        number = await self._store.cards(BOARD, self.room_id).ticket_of(replied)
        if number is None:
            return None
        return StaffAction(staff, StaffCommand.REPLY, number, text, source)

    async def _answer(self, event: RoomMessageText, answer: Reply) -> None:
        # /ticket N shows the whole conversation: it may take several events.
        for content in fitted(answer, board_notice):
            await self._sender.send(self.room_id, in_reply_to(event.event_id, content))

"""Telegram for staff: ticket cards in the staff group, and staff commands and buttons there.

Also the way staff answers reach people on Telegram. Who is staff is checked on every action:
a member of the staff group (getChatMember) or a listed id; a coordinator is not staff by
being a coordinator.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Final

from telegram import Bot, InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot.adapters.telegram.delivery import ReplyDelivery, Undeliverable, with_retries
from bot.adapters.telegram.rendering import keyboard, render_html
from bot.adapters.telegram.splitting import TELEGRAM_LIMIT, split_html
from bot.core.messages import Channel, Reply
from bot.core.staff import StaffAction, StaffCommand, StaffDesk
from bot.core.staff_screens import NOT_STAFF, STAFF_CHECK_FAILED, StaffScreens
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

BOARD: Final = "telegram"
CARD_DELETED: Final = "message to edit not found"
"""Telegram's answer to an edit of a message that was deleted (lower case)."""
STAFF_STATUSES: Final = frozenset(
    {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}
)
_COMMAND = re.compile(r"^/(\w+)(?:@\w+)?(?:\s+#?(\d+))?(?:\s+(.*))?$", re.DOTALL)
_COMMANDS: Final = {command.value: command for command in StaffCommand}


def fits_one_message(reply: Reply) -> bool:
    """Whether ``reply`` as Telegram HTML fits one message (a card is edited in place, so it
    cannot be split); the HTML is never shorter than the visible text Telegram counts."""
    return len(render_html(reply)) <= TELEGRAM_LIMIT


class StaffCheckUnavailableError(Exception):
    """Telegram could not say just now whether someone is a member of the staff group."""


class TelegramPeople:
    """PersonOutbox for Telegram: staff answers to a person's private chat, sent as the bot's
    own replies are (in parts when long, retried through passing errors)."""

    def __init__(self, delivery: ReplyDelivery) -> None:
        self._delivery = delivery

    async def send(
        self, to: PersonAddress, replies: list[Reply], key: str | None = None
    ) -> DeliveryFailure | None:
        # ``key`` is not used: Telegram takes no idempotency key (see README, the window left).
        try:
            for reply in replies:
                await self._delivery.send_reply(int(to.address), reply)
        except Undeliverable as error:
            return DeliveryFailure(f"the person blocked the bot ({error})", True)
        except BadRequest as error:
            return DeliveryFailure(error.message, "not found" in error.message.lower())
        except TelegramError as error:
            return DeliveryFailure(f"Telegram: {error.message}", False)
        return None


class TelegramStaffBoard:
    """TicketBoard in the staff group: one card per ticket, edited in place, and each of the
    person's new messages posted under it so that staff are notified."""

    def __init__(
        self, bot: Bot, chat_id: int, store: SqlTicketStore, screens: StaffScreens
    ) -> None:
        self._bot = bot
        self._chat_id = chat_id
        self._cards = store.cards(BOARD, str(chat_id))
        self._screens = screens

    async def publish(self, ticket: TicketView) -> None:
        card = self._screens.card(ticket, datetime.now(UTC), fits_one_message)
        html, markup = render_html(card), keyboard(card)
        posted = await self._cards.card(ticket.number)
        if posted is None:
            await self._post_card(ticket, html, markup)
            return
        card_id, shown = posted
        try:
            await with_retries(
                lambda: self._bot.edit_message_text(
                    html,
                    self._chat_id,
                    int(card_id),
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                )
            )
        except BadRequest as error:
            if CARD_DELETED in error.message.lower():
                # Someone deleted the card: the ticket must not drop out of staff's sight.
                await self._post_card(ticket, html, markup, replacing=card_id)
                return
            if "not modified" not in error.message.lower():
                raise
        for line in not_yet_posted(ticket, shown):
            # Every part is a reply to the card, and replying to any of them answers the person.
            for message_id in await self._post(self._screens.news(ticket, line), int(card_id)):
                await self._cards.add_follow_up(ticket.number, str(message_id))
        await self._cards.mark_shown(ticket)

    async def _post_card(
        self,
        ticket: TicketView,
        html: str,
        markup: InlineKeyboardMarkup | None,
        replacing: str | None = None,
    ) -> None:
        """Post a new card; it shows the newest messages itself, so none is posted under it."""
        sent = await with_retries(
            lambda: self._bot.send_message(
                self._chat_id, html, parse_mode=ParseMode.HTML, reply_markup=markup
            )
        )
        await self._cards.add_card(ticket, str(sent.message_id), replacing=replacing)

    async def maybe_behind(self) -> dict[int, ShownCard]:
        return await self._cards.maybe_behind()

    async def remind(self, tickets: list[TicketView]) -> None:
        await self._post(self._screens.reminder(tickets, datetime.now(UTC)))

    async def notify(self, notice: Reply) -> None:
        await self._post(notice)

    async def _post(self, reply: Reply, reply_to: int | None = None) -> list[int]:
        """Send ``reply`` to the group in as many messages as it takes; their ids."""
        sent = [
            await with_retries(
                lambda part=part: self._bot.send_message(  # type: ignore[misc]
                    self._chat_id, part, parse_mode=ParseMode.HTML, reply_to_message_id=reply_to
                )
            )
            for part in split_html(render_html(reply))
        ]
        return [message.message_id for message in sent]


class StaffGroupHandlers:
    """Turns staff commands, replies to cards and card buttons into StaffActions."""

    def __init__(
        self,
        desk: StaffDesk,
        store: SqlTicketStore,
        chat_id: int,
        staff_ids: frozenset[int],
    ) -> None:
        self._desk = desk
        self._store = store
        self._chat_id = chat_id
        self._staff_ids = staff_ids

    async def is_staff(self, bot: Bot, user: User) -> bool:
        """Whether ``user`` is staff now; raises StaffCheckUnavailableError when Telegram could
        not be asked (they are refused then too, but told to try again, not that they are
        not staff)."""
        if user.id in self._staff_ids:
            return True
        try:
            member = await bot.get_chat_member(self._chat_id, user.id)
        except BadRequest:  # a NetworkError in PTB's hierarchy, but a final answer
            return False
        except (NetworkError, RetryAfter) as error:
            raise StaffCheckUnavailableError from error
        except TelegramError:
            return False
        return member.status in STAFF_STATUSES

    async def _refusal(self, bot: Bot, user: User) -> Reply | None:
        """Why ``user`` may not act as staff now; None when they may."""
        try:
            if await self.is_staff(bot, user):
                return None
        except StaffCheckUnavailableError:
            log.warning("could not check a staff member with Telegram; refused for now")
            return self._desk.screens.said(STAFF_CHECK_FAILED)
        log.warning("refused a staff command or button from a non-staff user")
        return self._desk.screens.said(NOT_STAFF)

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A message in the staff group: a command, or a reply to a ticket's card."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or message.text is None:
            return
        action = await self._action_of(message, user, str(update.update_id))
        if action is None:
            return  # staff talking among themselves
        refusal = await self._refusal(context.bot, user)
        if refusal is not None:
            await self._answer(message, refusal)
            return
        answer = await self._desk.act(action, datetime.now(UTC))
        await self._answer(message, answer)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Take, Release, Close or Reopen on a card; anyone else gets a refusal."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        _, number, verb = [*query.data.split(":"), "", ""][:3]
        command = _COMMANDS.get(verb)
        if not number.isdecimal() or command is None:
            await query.answer()
            return
        refusal = await self._refusal(context.bot, query.from_user)
        if refusal is not None:
            await query.answer(refusal.text, show_alert=True)
            return
        staff = StaffMember(f"telegram:{query.from_user.id}", query.from_user.full_name)
        answer = await self._desk.act(StaffAction(staff, command, int(number)), datetime.now(UTC))
        await query.answer(answer.text[:200], show_alert=False)

    async def _action_of(self, message: Message, user: User, update_id: str) -> StaffAction | None:
        staff = StaffMember(f"telegram:{user.id}", user.full_name)
        source = (Channel.TELEGRAM.value, update_id)
        text = message.text or ""
        found = _COMMAND.match(text.strip())
        if found is not None:
            command = _COMMANDS.get(found.group(1).lower())
            if command is None:
                return None
            # A number past the last ticket's is refused as no such ticket, however long.
            number = bounded_number(found.group(2) or "", MAX_TICKET_NUMBER + 1)
            return StaffAction(staff, command, number, found.group(3), source)
        replied = message.reply_to_message
        if replied is None:
            return None
        cards = self._store.cards(BOARD, str(message.chat_id))
        number = await cards.ticket_of(str(replied.message_id))
        if number is None:
            return None
        return StaffAction(staff, StaffCommand.REPLY, number, text, source)

    @staticmethod
    async def _answer(message: Message, answer: Reply) -> None:
        """Answer in the group; a long one (/ticket N) in several messages, buttons last."""
        *first, last = split_html(render_html(answer))
        for part in first:
            await with_retries(
                lambda part=part: message.reply_text(  # type: ignore[misc]
                    part, parse_mode=ParseMode.HTML
                )
            )
        await with_retries(
            lambda: message.reply_text(
                last, parse_mode=ParseMode.HTML, reply_markup=keyboard(answer)
            )
        )

"""The staff's side of tickets: take, answer through the bot, close, reopen, release, list.

Adapters turn a button or command on a staff board into a ``StaffAction`` after checking the
sender is staff; this class does the rest, the same for every board.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.core import staff_screens as said
from bot.core.handoff_screens import HandoffScreens
from bot.core.locks import KeyedLocks
from bot.core.messages import Reply
from bot.core.office_hours import OfficeHours
from bot.core.staff_screens import StaffScreens
from bot.core.tickets import (
    MAX_TICKET_NUMBER,
    EventKey,
    PersonOutbox,
    RepeatedEventError,
    StaffMember,
    TakeOutcome,
    TicketEvents,
    TicketStore,
    TicketView,
)

log = logging.getLogger(__name__)


class StaffCommand(StrEnum):
    TAKE = "take"
    RELEASE = "release"
    CLOSE = "close"
    REOPEN = "reopen"
    REPLY = "reply"
    LIST = "tickets"
    SHOW = "ticket"


@dataclass(frozen=True, slots=True)
class StaffAction:
    """One thing a staff member asked for."""

    staff: StaffMember
    command: StaffCommand
    number: int | None = None
    text: str | None = None
    event: EventKey | None = None
    """The staff message it came in, so that one delivered again is not acted on twice."""


@dataclass(frozen=True, slots=True)
class Sent:
    """A stored staff answer that went out, or was tried."""

    failure: str | None
    """Why it did not reach the person; None when it did."""


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """When untaken tickets are brought up again, in seconds."""

    waiting: float = 15 * 60
    """Ordinary tickets: after this long untaken, and again as often, in office hours."""
    urgent_every: float = 5 * 60
    """Priority tickets: this often, at any hour."""


class StaffDesk:
    """Carries out staff actions and tells every board what changed."""

    def __init__(
        self,
        *,
        store: TicketStore,
        outbox: PersonOutbox,
        events: TicketEvents,
        person_screens: HandoffScreens,
        screens: StaffScreens,
        office: OfficeHours | None,
        reminders: ReminderPolicy,
    ) -> None:
        self._store = store
        self._outbox = outbox
        self._events = events
        self._person = person_screens
        self.screens = screens
        self._office = office
        self._reminders = reminders
        self._sending: KeyedLocks[int] = KeyedLocks()
        """One per staff answer on its way, so that no other path sends it meanwhile."""
        self._asking: KeyedLocks[int] = KeyedLocks()
        """One per ticket whose closing question or reopening notice is on its way, likewise."""

    async def act(self, action: StaffAction, now: datetime) -> Reply:  # noqa: PLR0911
        """Do ``action``; returns the answer for the staff member who asked."""
        number = action.number
        if action.command is StaffCommand.LIST:
            return self.screens.listing(await self._store.open_tickets(), now)
        if number is None:
            return self.screens.said(said.USAGE)
        if number > MAX_TICKET_NUMBER:
            return self.screens.said(said.NOT_FOUND, number=number)
        match action.command:
            case StaffCommand.SHOW:
                view = await self._store.view(number)
                if view is None:
                    return self.screens.said(said.NOT_FOUND, number=number)
                return self.screens.detail(view, now)
            case StaffCommand.TAKE:
                return await self._take(number, action.staff, now)
            case StaffCommand.RELEASE:
                if await self._store.release(number, action.staff) is None:
                    return self.screens.said(said.NOT_FOUND, number=number)
                await self._events.changed(number)
                return self.screens.said(said.RELEASED, number=number)
            case StaffCommand.CLOSE:
                return await self._close(number, now)
            case StaffCommand.REOPEN:
                return await self._reopen(number, now)
            case StaffCommand.REPLY:
                return await self._reply(number, action, now)
        return self.screens.said(said.USAGE)

    async def _take(self, number: int, staff: StaffMember, now: datetime) -> Reply:
        outcome, view = await self._store.take(number, staff, now)
        if outcome is TakeOutcome.TAKEN:
            log.info("ticket #%d taken", number)
            await self._events.changed(number)
            return self.screens.said(said.TAKEN, number=number)
        if outcome is TakeOutcome.ALREADY_YOURS:
            return self.screens.said(said.ALREADY_YOURS, number=number)
        if outcome is TakeOutcome.TAKEN_BY_OTHER and view is not None and view.assignee:
            return self.screens.said(said.TAKEN_BY_OTHER, number=number, name=view.assignee.name)
        if outcome is TakeOutcome.NOT_OPEN:
            return self.screens.said(said.NOT_OPEN, number=number)
        return self.screens.said(said.NOT_FOUND, number=number)

    async def _close(self, number: int, now: datetime) -> Reply:
        if await self._store.close(number, now) is None:
            return await self._not_open(number)
        log.info("ticket #%d closed by staff", number)
        await self._ask_if_pending(number, now)
        await self._events.changed(number)
        return self.screens.said(said.CLOSED, number=number)

    async def _ask_if_pending(self, number: int, now: datetime) -> bool:
        """Ask the person of a ticket staff closed "did we help?", unless that was done or
        is being done (False then). Stored with the closing, the question survives a crash;
        it is settled before its options are remembered, so a crash in between loses those
        options (typing a number to answer, on Matrix) rather than asking twice."""
        async with self._asking.hold(number):
            if not await self._store.question_pending(number):
                return False
            address = await self._store.address(number)
            if address is None:  # the person asked to be forgotten meanwhile
                await self._store.question_asked(number)
                return True
            question = self._person.closed_by_staff(address.language, number)
            failure = await self._outbox.send(address, [question])
            await self._store.question_asked(number)
        if failure is not None:
            log.warning("ticket #%d: could not ask the person for a rating", number)
        else:
            offered = [[option.id, option.label] for option in question.options]
            await self._store.offer(number, offered, now)
        return True

    async def _reopen(self, number: int, now: datetime) -> Reply:
        result = await self._store.reopen(number, now)
        if isinstance(result, int):
            return self.screens.said(said.OTHER_OPEN, other=result)
        if result is None:
            return await self._not_open(number, said.CANNOT_REOPEN)
        await self._tell_reopened_if_pending(number)
        await self._events.changed(number)
        return self.screens.said(said.REOPENED, number=number)

    async def _tell_reopened_if_pending(self, number: int) -> bool:
        """Tell the person of a ticket staff reopened that it is open again, unless that was
        done or is being done (False then); stored with the reopening, like the closing's
        question, and under the same lock, so the two never cross."""
        async with self._asking.hold(number):
            if not await self._store.reopen_notice_pending(number):
                return False
            address = await self._store.address(number)
            failure = None
            if address is not None:  # None: the person asked to be forgotten meanwhile
                notice = self._person.already_open(address.language, number)
                failure = await self._outbox.send(address, [notice])
            await self._store.reopen_notice_sent(number)
        if failure is not None:
            log.warning("ticket #%d: could not tell the person it is open again", number)
        return True

    async def _reply(self, number: int, action: StaffAction, now: datetime) -> Reply:
        text, staff, event = action.text or "", action.staff, action.event
        if not text.strip():
            return self.screens.said(said.EMPTY_REPLY, number=number)
        try:
            line_id = await self._store.add_staff_reply(number, staff, text.strip(), now, event)
        except RepeatedEventError as repeated:
            # The first time round stored an answer. If it is still unsent (an outage hid
            # that its transaction committed, or the bot stopped before sending), it goes now.
            line_id = repeated.line_id
        else:
            if line_id is None:
                return await self._not_open(number)
        # Even an answer stored just now: the start-up retry may have found it pending.
        sent = await self._send_if_pending(line_id, now)
        if sent is None:
            return self.screens.said(said.ALREADY_HANDLED, number=number)
        if sent.failure is not None:
            return self.screens.said(said.NOT_DELIVERED, number=number, reason=sent.failure)
        return self.screens.said(said.SENT, number=number)

    async def _not_open(self, number: int, message: str = said.NOT_OPEN) -> Reply:
        """Why an action on ticket ``number`` did nothing: it is not open, or not there."""
        exists = await self._store.view(number) is not None
        return self.screens.said(message if exists else said.NOT_FOUND, number=number)

    async def retry_pending(self, now: datetime) -> int:
        """Deliver staff answers, closing questions and reopening notices stored but never
        sent (the bot stopped in between); how many."""
        sent = 0
        for line_id, _, _ in await self._store.pending_replies():
            # The messengers already take staff messages: an answer stored a moment ago is
            # pending too while it is on its way, and must not be sent a second time.
            if await self._send_if_pending(line_id, now) is not None:
                sent += 1
        for number in await self._store.pending_questions():
            if await self._ask_if_pending(number, now):
                sent += 1
        for number in await self._store.pending_reopen_notices():
            if await self._tell_reopened_if_pending(number):
                sent += 1
        return sent

    async def _send_if_pending(self, line_id: int | None, now: datetime) -> Sent | None:
        """Send a stored answer unless it is settled (None then); boards are told of a send."""
        if line_id is None:
            return None
        async with self._sending.hold(line_id):
            pending = await self._store.pending_reply(line_id)
            if pending is None:
                return None
            number, text = pending
            failure = await self._deliver(line_id, number, text, now)
        await self._events.changed(number)
        return Sent(failure)

    async def _deliver(self, line_id: int, number: int, text: str, now: datetime) -> str | None:
        """Send a stored answer to the person and record the outcome; the failure, if any.

        An answer is stored before it is sent, so one interrupted by a crash is sent at the
        next start (``retry_pending``) rather than lost. The caller holds the answer's lock.
        """
        address = await self._store.address(number)
        failure: str | None
        if address is None:
            failure, permanent = "the person's chat is no longer known", True
        else:
            reply = self._person.staff_reply(address.language, text)
            # Names this answer for good: its line, and what it says (ids restart with a new
            # database, while the homeserver may still remember the bot's old transactions).
            key = f"staff-answer:{number}:{line_id}:{text}"
            outcome = await self._outbox.send(address, [reply], key)
            failure = outcome.reason if outcome else None
            permanent = outcome.permanent if outcome else False
        if failure is not None:
            log.warning("ticket #%d: a staff reply was not delivered", number)
        await self._store.settle_delivery(line_id, failure, permanent, now)
        return failure

    async def remind(self, now: datetime) -> list[TicketView]:
        """Bring up untaken tickets: priority ones at any hour, others in office hours."""
        office_open = self._office is None or self._office.is_open(now)
        due = await self._store.due_reminders(
            now, self._reminders.waiting, self._reminders.urgent_every, office_open
        )
        if due:
            await self._events.remind(due)
        return due

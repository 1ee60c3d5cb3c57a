"""What staff read on their boards: ticket cards, lists and answers to their commands.

In the staff's language (settings: staff_language); the person's language is shown on every
card, large, because staff may answer in any language.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Final, Protocol
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot.core.i18n import LANGUAGE_NAMES, N_, Localizer, Translator
from bot.core.messages import Option, Reply
from bot.core.screens import shorten
from bot.core.tickets import Author, Delivery, TicketLine, TicketReason, TicketView

Fits = Callable[[Reply], bool]
"""Whether a card, as its board renders it, fits there in one message."""

CARD_TEXT_LIMIT: Final = 3500
"""A card's text where the board sets no limit of its own (Matrix): read at a glance."""
LINE_LIMIT: Final = 900
"""A card shows at most this much of one message; /ticket N shows more."""
DETAIL_LINE_LIMIT: Final = 4000
"""/ticket N shows each message up to about one Telegram message (what a person can send)."""
PROBLEMS_SHOWN: Final = 10
PROBLEM_LIMIT: Final = 300
REASONS: Final = {
    TicketReason.ASKED: N_("asked for a person"),
    TicketReason.UNANSWERED: N_("the bot could not answer"),
    TicketReason.POLICY: N_("the topic needs a person"),
    TicketReason.DANGER: N_("DANGER signalled"),
}


class FileProblem(Protocol):
    """What is wrong with one field of one knowledge file (the loader's Problem)."""

    @property
    def file(self) -> str: ...

    @property
    def field(self) -> str: ...

    @property
    def message(self) -> str: ...


def plain_length_within(limit: int) -> Fits:
    """Fits when the card's title and text together are at most ``limit`` characters."""
    return lambda card: len(card.title or "") + len(card.text) <= limit


class StaffScreens:
    """Builds the staff's view of tickets in one language."""

    def __init__(self, translator: Translator, language: str, zone: ZoneInfo) -> None:
        self._t: Localizer = translator.localizer(language)
        self.language = language
        self._zone = zone

    def _time(self, moment: datetime) -> str:
        return format_datetime(moment, "d MMM HH:mm", tzinfo=self._zone, locale=self.language)

    def card(self, ticket: TicketView, now: datetime, fits: Fits | None = None) -> Reply:
        """The ticket's card: who, what, since when, and the newest messages that fit.

        The board says what fits (``fits``) because only it knows how much a card grows when
        rendered (HTML escaping turns "&" into five characters); measuring the rendered card
        is exact, where a budget guessed here would have to assume the worst of every
        character. The header and buttons always stay; the oldest messages go first.
        """
        fits = fits or plain_length_within(CARD_TEXT_LIMIT)
        head = "\n".join(self._head(ticket, now))
        lines = [self._line(line, LINE_LIMIT) for line in ticket.lines]
        shown = 0
        while shown < len(lines) and fits(self._card(ticket, head, lines[-shown - 1 :])):
            shown += 1
        if shown == 0 and lines:
            # Even the newest message alone is too long: show as much of its start as fits.
            return self._card(ticket, head, [self._newest_that_fits(ticket, head, fits)])
        return self._card(ticket, head, lines[len(lines) - shown :])

    def _newest_that_fits(self, ticket: TicketView, head: str, fits: Fits) -> str:
        """The newest line shortened to the longest text that still fits on the card."""
        newest = ticket.lines[-1]
        low, high = 1, LINE_LIMIT  # one character is taken to fit: the header is short
        while low < high:
            middle = (low + high + 1) // 2
            if fits(self._card(ticket, head, [self._line(newest, middle)])):
                low = middle
            else:
                high = middle - 1
        return self._line(newest, low)

    def _card(self, ticket: TicketView, head: str, lines: list[str]) -> Reply:
        """The card with ``lines``, the newest of the conversation; the others counted."""
        t = self._t
        title = f"#{ticket.number}"
        if ticket.priority:
            label = t._("PRIORITY")
            title = f"🚨 {title} · {label}"
        body = head
        if hidden := len(ticket.lines) - len(lines):
            lines = [
                t.ngettext(
                    "({n} earlier message not shown; /ticket {number} shows the whole "
                    "conversation)",
                    "({n} earlier messages not shown; /ticket {number} shows the whole "
                    "conversation)",
                    hidden,
                    number=ticket.number,
                ),
                *lines,
            ]
        if lines:
            body += "\n\n" + t._("Conversation:") + "\n" + "\n".join(lines)
        return Reply(body, self.language, title=title, options=self._buttons(ticket))

    def _head(self, ticket: TicketView, now: datetime) -> list[str]:
        t = self._t
        minutes = max(0, int((now - ticket.opened_at).total_seconds() // 60))
        head = [
            t._(
                "Language: {code} – {name}",
                code=ticket.language.upper(),
                name=LANGUAGE_NAMES.get(ticket.language, ticket.language),
            ),
            t._("Channel: {channel}", channel=ticket.channel),
            t._("Reason: {reason}", reason=t._(REASONS[ticket.reason])),
            t._("Topics: {topics}", topics=", ".join(ticket.topics) or "–"),
            t.ngettext(
                "Opened {time}, {n} minute ago",
                "Opened {time}, {n} minutes ago",
                minutes,
                time=self._time(ticket.opened_at),
            ),
            self._status(ticket),
        ]
        if ticket.unreachable:
            head.append(t._("⚠ The person cannot be reached (they blocked the bot or left)."))
        return head

    def _status(self, ticket: TicketView) -> str:
        t = self._t
        if not ticket.open:
            by_person = ticket.closed_by == "person"
            return t._("Status: closed by the person") if by_person else t._("Status: closed")
        if ticket.assignee is None:
            return t._("Status: open, nobody has taken it")
        return t._("Status: taken by {name}", name=ticket.assignee.name)

    def _line(self, line: TicketLine, limit: int = LINE_LIMIT) -> str:
        t = self._t
        text = shorten(line.text, limit)
        when = format_datetime(line.at, "HH:mm", tzinfo=self._zone, locale=self.language)
        if line.author is Author.PERSON:
            return t._("{time} Person: {text}", time=when, text=text)
        mark = {
            Delivery.DELIVERED: "✓",
            Delivery.PENDING: "…",
            Delivery.FAILED: t._("⚠ not delivered: {reason}", reason=line.failure or "?"),
        }.get(line.delivery or Delivery.DELIVERED, "")
        return f"{when} {line.staff_name or '?'}: {text} {mark}".rstrip()

    def _buttons(self, ticket: TicketView) -> tuple[Option, ...]:
        t, number = self._t, ticket.number
        if not ticket.open:
            return (Option(f"ticket:{number}:reopen", t._("Reopen")),)
        first = (
            Option(f"ticket:{number}:take", t._("Take"))
            if ticket.assignee is None
            else Option(f"ticket:{number}:release", t._("Release"))
        )
        return (first, Option(f"ticket:{number}:close", t._("Close")))

    def news(self, ticket: TicketView, line: TicketLine) -> Reply:
        """A new message of the person, posted under the card so that staff are notified."""
        return Reply(
            f"#{ticket.number} · {ticket.language.upper()} · {self._line(line)}", self.language
        )

    def detail(self, ticket: TicketView, now: datetime) -> Reply:
        """/ticket N: the card with the whole conversation, and the person's earlier tickets.

        Not trimmed to one message: boards split it (Telegram) where they must.
        """
        lines = [self._line(line, DETAIL_LINE_LIMIT) for line in ticket.lines]
        card = self._card(ticket, "\n".join(self._head(ticket, now)), lines)
        if not ticket.earlier:
            return card
        earlier = ", ".join(f"#{number}" for number in ticket.earlier)
        text = card.text + "\n\n" + self._t._("Earlier requests: {numbers}", numbers=earlier)
        return Reply(text, card.language, title=card.title, options=card.options)

    def listing(self, tickets: list[TicketView], now: datetime) -> Reply:
        t = self._t
        if not tickets:
            return Reply(t._("No open tickets."), self.language)
        rows = []
        for ticket in tickets:
            minutes = max(0, int((now - ticket.opened_at).total_seconds() // 60))
            who = ticket.assignee.name if ticket.assignee else t._("nobody")
            mark = "🚨 " if ticket.priority else ""
            rows.append(
                f"{mark}#{ticket.number} · {ticket.language.upper()} · "
                + t._("{minutes} min", minutes=minutes)
                + f" · {who}"
            )
        title = t.ngettext("{n} open ticket", "{n} open tickets", len(tickets))
        return Reply("\n".join(rows), self.language, title=title)

    def reminder(self, tickets: list[TicketView], now: datetime) -> Reply:
        t = self._t
        listing = self.listing(tickets, now)
        return Reply(
            listing.text,
            self.language,
            title=t._("⏰ Waiting for someone to take them"),
        )

    def knowledge_refused(self, topics: int, problems: Sequence[FileProblem]) -> Reply:
        """New knowledge content was refused: the bot goes on with the previous version."""
        t = self._t
        lines = [
            t.ngettext(
                "The bot keeps answering from the previous version, with {n} topic.",
                "The bot keeps answering from the previous version, with {n} topics.",
                topics,
            ),
            "",
            t.ngettext(
                "{n} problem in the new files:", "{n} problems in the new files:", len(problems)
            ),
        ]
        lines += [
            "• " + shorten(f"{problem.file}: {problem.field}: {problem.message}", PROBLEM_LIMIT)
            for problem in problems[:PROBLEMS_SHOWN]
        ]
        if (more := len(problems) - PROBLEMS_SHOWN) > 0:
            lines.append(t.ngettext("…and {n} more problem.", "…and {n} more problems.", more))
        title = t._("⚠ The new knowledge content was NOT put in service")
        return Reply("\n".join(lines), self.language, title=title)

    def said(self, message: str, **params: object) -> Reply:
        """A one-line answer to a staff command (the message id is marked with N_)."""
        return Reply(self._t._(message, **params), self.language)


# Answers to staff commands, marked for extraction; StaffScreens.said translates them.
TAKEN = N_("You took #{number}.")
ALREADY_YOURS = N_("#{number} is already yours.")
TAKEN_BY_OTHER = N_("#{number} is already taken by {name}.")
NOT_OPEN = N_("#{number} is not open.")
NOT_FOUND = N_("There is no ticket #{number}.")
RELEASED = N_("#{number} is free for anyone to take.")
CLOSED = N_("#{number} is closed; the person was asked whether we helped.")
REOPENED = N_("#{number} is open again.")
OTHER_OPEN = N_("The person already has another open request, #{other}.")
CANNOT_REOPEN = N_("#{number} cannot be reopened (the person erased their data, or it is open).")
SENT = N_("Sent to the person of #{number}.")
ALREADY_HANDLED = N_(
    "#{number}: this answer was already handled; the card shows whether it arrived."
)
NOT_DELIVERED = N_("Not delivered to the person of #{number}: {reason}")
NOT_STAFF = N_("Only Information Point staff can do this.")
STAFF_CHECK_FAILED = N_(
    "Telegram did not confirm just now that you are staff. Please try again in a moment."
)
USAGE = N_(
    "Commands: /tickets, /ticket N, /reply N text (or reply to a card), /close N, /reopen N, "
    "/release N."
)
EMPTY_REPLY = N_("Write the answer after the number: /reply {number} text.")

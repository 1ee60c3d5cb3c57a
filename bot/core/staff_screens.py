"""What staff read on their boards: ticket cards, lists and answers to their commands.

In the staff's language (settings: staff_language); the person's language is shown on every
card, large, because staff may answer in any language.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot.core.i18n import LANGUAGE_NAMES, N_, Localizer, Translator
from bot.core.messages import Option, Reply
from bot.core.tickets import Author, Delivery, TicketLine, TicketReason, TicketView

CARD_TEXT_LIMIT: Final = 3500
"""Room for a card's text under Telegram's 4,096 characters, with its markup."""
LINE_LIMIT: Final = 900
REASONS: Final = {
    TicketReason.ASKED: N_("asked for a person"),
    TicketReason.UNANSWERED: N_("the bot could not answer"),
    TicketReason.POLICY: N_("the topic needs a person"),
    TicketReason.DANGER: N_("DANGER signalled"),
}


class StaffScreens:
    """Builds the staff's view of tickets in one language."""

    def __init__(self, translator: Translator, language: str, zone: ZoneInfo) -> None:
        self._t: Localizer = translator.localizer(language)
        self.language = language
        self._zone = zone

    def _time(self, moment: datetime) -> str:
        return format_datetime(moment, "d MMM HH:mm", tzinfo=self._zone, locale=self.language)

    def card(self, ticket: TicketView, now: datetime) -> Reply:
        """The ticket's card: who, what, since when, and the conversation so far."""
        t = self._t
        title = f"#{ticket.number}"
        if ticket.priority:
            label = t._("PRIORITY")
            title = f"🚨 {title} · {label}"
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
        lines = [self._line(line) for line in ticket.lines]
        while lines and len("\n".join(head + lines)) > CARD_TEXT_LIMIT:
            lines.pop(0)
        if len(lines) < len(ticket.lines):
            lines.insert(0, t._("(earlier messages: /ticket {number})", number=ticket.number))
        body = "\n".join(head)
        if lines:
            body += "\n\n" + t._("Conversation:") + "\n" + "\n".join(lines)
        return Reply(body, self.language, title=title, options=self._buttons(ticket))

    def _status(self, ticket: TicketView) -> str:
        t = self._t
        if not ticket.open:
            by_person = ticket.closed_by == "person"
            return t._("Status: closed by the person") if by_person else t._("Status: closed")
        if ticket.assignee is None:
            return t._("Status: open, nobody has taken it")
        return t._("Status: taken by {name}", name=ticket.assignee.name)

    def _line(self, line: TicketLine) -> str:
        t = self._t
        text = line.text if len(line.text) <= LINE_LIMIT else line.text[:LINE_LIMIT] + "…"
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
        """/ticket N: the card, with the person's earlier tickets."""
        card = self.card(ticket, now)
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
NOT_DELIVERED = N_("Not delivered to the person of #{number}: {reason}")
NOT_STAFF = N_("Only Information Point staff can do this.")
USAGE = N_(
    "Commands: /tickets, /ticket N, /reply N text (or reply to a card), /close N, /reopen N, "
    "/release N."
)
EMPTY_REPLY = N_("Write the answer after the number: /reply {number} text.")

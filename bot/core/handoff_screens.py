"""What the person reads about hand-offs to staff, in their language."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot.core.i18n import Localizer, Translator
from bot.core.messages import Option, Reply


class HandoffScreens:
    """Builds the hand-off replies; knows nothing of tickets in the database."""

    def __init__(self, translator: Translator, zone: ZoneInfo) -> None:
        self._translator = translator
        self._zone = zone

    def _t(self, language: str) -> Localizer:
        return self._translator.localizer(language)

    def ask_summary(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(
            t._(
                "I will pass your case to the Information Point staff. Please describe it "
                "in a sentence or two: what happened and what you need."
            ),
            language,
            options=(Option("handoff:no", t._("Cancel")),),
        )

    def summary_too_short(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(
            t._(
                "Please write a little more, so that staff can help: what happened and what "
                "you need."
            ),
            language,
            options=(Option("handoff:no", t._("Cancel")),),
        )

    def offer_person(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(
            t._("I could not answer twice. Shall I pass your question to a person?"),
            language,
            options=(
                Option("handoff:yes", t._("Yes, to a person")),
                Option("handoff:no", t._("No, thank you")),
            ),
        )

    def declined(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(t._("All right. You can ask me something else."), language)

    def opened(self, language: str, number: int, back_at: datetime | None, minutes: int) -> Reply:
        """The ticket number, and when to expect an answer: soon, or when staff are back."""
        t = self._t(language)
        head = t._("Your request #{number} has gone to the Information Point staff.", number=number)
        if back_at is None:
            when = t.ngettext(
                "They usually answer within {n} minute, here in this chat.",
                "They usually answer within {n} minutes, here in this chat.",
                minutes,
            )
        else:
            when = t._(
                "Staff are not at work now. They will be back on {when} and will answer "
                "here in this chat.",
                when=format_datetime(
                    back_at, "EEEE, d MMMM, HH:mm", tzinfo=self._zone, locale=language
                ),
            )
        tail = t._("Until then, what you write here goes to them. /cancel closes the request.")
        return Reply(f"{head} {when}\n\n{tail}", language)

    def already_open(self, language: str, number: int) -> Reply:
        t = self._t(language)
        return Reply(
            t._(
                "Your request #{number} is open: what you write here goes to the staff. "
                "/cancel closes it.",
                number=number,
            ),
            language,
        )

    def cancelled(self, language: str, number: int) -> Reply:
        t = self._t(language)
        return Reply(
            t._("Request #{number} is closed. You are talking to the bot again.", number=number),
            language,
        )

    def nothing_to_cancel(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(t._("There is nothing to cancel."), language)

    def staff_reply(self, language: str, text: str) -> Reply:
        t = self._t(language)
        return Reply(t._("Information Point staff: {text}", text=text), language)

    def closed_by_staff(self, language: str, number: int) -> Reply:
        t = self._t(language)
        return Reply(
            t._(
                "The staff closed your request #{number}. Did we help?",
                number=number,
            ),
            language,
            options=(
                Option(f"rate:up:ticket:{number}", "👍"),
                Option(f"rate:down:ticket:{number}", "👎"),
            ),
        )

    def danger(self, language: str, text: str) -> Reply:
        """The numbers for a danger, from knowledge/_danger.yaml (content, not catalogues)."""
        return Reply(text, language, title=self._t(language)._("Help now"))

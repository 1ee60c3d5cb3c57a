"""Ticket cards fit one Telegram message however long the conversation, newest lines kept.

A card is edited in place, so it cannot be split: it keeps its header and buttons, and as
many of the newest messages as fit once rendered as Telegram HTML, and says how many earlier
ones it leaves out and where to read them (/ticket N shows the whole conversation).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.adapters.telegram.rendering import render_html
from bot.adapters.telegram.staff import fits_one_message
from bot.core.i18n import Translator
from bot.core.staff_screens import StaffScreens
from bot.core.tickets import Author, TicketLine, TicketReason, TicketView
from bot.knowledge.loader import Problem
from tests.conftest import ROOT

OPENED = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
NOW = OPENED + timedelta(hours=3)


@pytest.fixture(scope="module")
def translator() -> Translator:
    return Translator.load(ROOT / "locales")


def screens(translator: Translator, language: str = "pl") -> StaffScreens:
    return StaffScreens(translator, language, ZoneInfo("Europe/Warsaw"))


def ticket(texts: list[str], number: int = 42) -> TicketView:
    lines = tuple(
        TicketLine(OPENED + timedelta(seconds=i), Author.PERSON, text)
        for i, text in enumerate(texts)
    )
    return TicketView(
        number=number,
        channel="telegram",
        language="uk",
        priority=True,
        reason=TicketReason.DANGER,
        topics=("work.unpaid-wages",),
        open=True,
        opened_at=OPENED,
        assignee=None,
        closed_by=None,
        unreachable=False,
        lines=lines,
    )


def long_message(i: int) -> str:
    """Message ``i``: 300 characters, its number at both ends, with some to escape."""
    marker = f"[message {i:03d}]"
    return marker + ("Tom & Jerry <3 " * 20)[: 300 - 2 * len(marker)] + marker


def test_a_long_conversation_keeps_the_newest_messages_that_fit(translator: Translator) -> None:
    view = ticket([long_message(i) for i in range(200)])

    card = screens(translator).card(view, NOW, fits_one_message)

    html = render_html(card)
    shown = [i for i in range(200) if f"[message {i:03d}]" in card.text]
    assert len(html) <= 4096
    assert len(html) > 4096 - 400  # no room left for one more message
    assert shown == list(range(200 - len(shown), 200))  # the newest, in order
    assert card.text.endswith(f"Osoba: {long_message(199)}")
    hidden = 200 - len(shown)
    assert (
        f"Rozmowa:\n(nie pokazano {hidden} wcześniejszych wiadomości; "
        "/ticket 42 pokazuje całą rozmowę)\n"
    ) in card.text
    assert card.text.startswith("Język: UK – Українська\nKanał: telegram\n")
    assert card.title == "🚨 #42 · PILNE"
    assert [option.id for option in card.options] == ["ticket:42:take", "ticket:42:close"]


def test_one_huge_message_full_of_markup_is_cut_to_fit(translator: Translator) -> None:
    huge = ("<&>" * 3334)[:10_000]
    view = ticket(["Dzień dobry", "Mam problem", huge])

    card = screens(translator).card(view, NOW, fits_one_message)

    html = render_html(card)
    assert len(html) <= 4096
    assert len(html) > 4096 - 20  # the newest message takes all the room there is
    newest = card.text.rsplit("\n", 1)[1]
    assert newest.startswith("12:00 Osoba: <&><&><&>")
    assert newest.endswith("…")
    assert "&lt;&amp;&gt;&lt;&amp;&gt;" in html  # escaped, never sent as markup
    assert (
        "(nie pokazano 2 wcześniejszych wiadomości; /ticket 42 pokazuje całą rozmowę)"
    ) in card.text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "(1 earlier message not shown; /ticket 7 shows the whole conversation)"),
        ("pl", "(nie pokazano 1 wcześniejszej wiadomości; /ticket 7 pokazuje całą rozmowę)"),
        ("uk", "(не показано 1 попереднє повідомлення; /ticket 7 показує всю розмову)"),
        ("ru", "(не показано 1 предыдущее сообщение; /ticket 7 показывает всю переписку)"),
    ],
)
def test_the_hidden_count_is_said_in_the_staff_language(
    translator: Translator, language: str, expected: str
) -> None:
    view = ticket(["first " * 100, "second " * 100], number=7)

    card = screens(translator, language).card(view, NOW, lambda card: len(card.text) < 1100)

    assert expected in card.text
    assert "second second" in card.text
    assert "first first" not in card.text


def test_a_short_conversation_is_shown_whole(translator: Translator) -> None:
    card = screens(translator).card(ticket(["Dzień dobry", "Mam problem"]), NOW)
    assert card.text.endswith("Rozmowa:\n12:00 Osoba: Dzień dobry\n12:00 Osoba: Mam problem")


def test_the_ticket_command_shows_the_whole_conversation(translator: Translator) -> None:
    view = ticket([long_message(i) for i in range(200)])

    detail = screens(translator).detail(view, NOW)

    assert [i for i in range(200) if f"[message {i:03d}]" in detail.text] == list(range(200))
    assert "nie pokazano" not in detail.text


def test_a_refused_reload_is_explained_to_staff(translator: Translator) -> None:
    problems = [Problem(f"topic{i}.yaml", "en.answer", "missing") for i in range(12)]

    notice = screens(translator).knowledge_refused(3, problems)

    assert notice.title == "⚠ Nowa treść bazy wiedzy NIE została wdrożona"
    assert notice.text.split("\n") == [
        "Bot nadal odpowiada na podstawie poprzedniej wersji (3 tematy).",
        "",
        "12 problemów w nowych plikach:",
        *(f"• topic{i}.yaml: en.answer: missing" for i in range(10)),
        "…i jeszcze 2 problemy.",
    ]


def test_a_refused_reload_in_english_names_each_file(translator: Translator) -> None:
    problem = Problem("docs.pesel.yaml", "line 3", "not valid YAML")

    notice = screens(translator, "en").knowledge_refused(1, [problem])

    assert (notice.title, notice.text) == (
        "⚠ The new knowledge content was NOT put in service",
        "The bot keeps answering from the previous version, with 1 topic.\n\n"
        "1 problem in the new files:\n"
        "• docs.pesel.yaml: line 3: not valid YAML",
    )

"""Hand-off to staff, through the real engine, store and staff desk (boards and the person's
messenger recorded): opening, danger, office hours, take, reply, close, rating, restart."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app import Core, build_core
from bot.core.messages import Channel, Inbound, Reply
from bot.core.office_hours import easter_sunday, polish_public_holidays
from bot.core.staff import StaffAction, StaffCommand
from bot.core.tickets import (
    Author,
    Delivery,
    DeliveryFailure,
    PersonAddress,
    ShownCard,
    StaffMember,
    TakeOutcome,
    TicketView,
    card_digest,
)
from bot.reports.periods import Month
from bot.reports.queries import build_report
from bot.storage.conversations import WARSAW, SqlConversationStore
from bot.storage.database import create_engine
from bot.storage.models import Ticket
from bot.storage.retention import purge
from bot.storage.tickets import SqlTicketStore
from tests.conftest import ROOT, make_settings

ANNA = StaffMember("telegram:501", "Anna")
MAREK = StaffMember("telegram:502", "Marek")
MONDAY_NOON = datetime(2026, 11, 2, 11, tzinfo=UTC)  # 12:00 in Kraków, office open
HELP_NOW = {"pl": "Pomoc teraz", "en": "Help now", "uk": "Допомога зараз", "ru": "Помощь сейчас"}


@dataclass
class RecordingBoard:
    """A staff board that remembers what it was shown."""

    published: list[TicketView] = field(default_factory=list)
    reminded: list[list[int]] = field(default_factory=list)
    notices: list[Reply] = field(default_factory=list)

    async def publish(self, ticket: TicketView) -> None:
        self.published.append(ticket)

    async def remind(self, tickets: list[TicketView]) -> None:
        self.reminded.append([ticket.number for ticket in tickets])

    async def notify(self, notice: Reply) -> None:
        self.notices.append(notice)

    async def maybe_behind(self) -> dict[int, ShownCard]:
        return {
            view.number: ShownCard(card_digest(view), len(view.lines)) for view in self.published
        }

    def last(self, number: int) -> TicketView:
        return [view for view in self.published if view.number == number][-1]


@dataclass
class RecordingMessenger:
    """The person's messenger as the staff desk sees it; can refuse like a blocked chat."""

    sent: list[tuple[PersonAddress, Reply]] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)
    keys: list[str | None] = field(default_factory=list)
    dies_after_next_send: bool = False
    """The next send reaches the person, and the process dies before hearing so."""

    async def send(
        self, to: PersonAddress, replies: list[Reply], key: str | None = None
    ) -> DeliveryFailure | None:
        if to.address in self.blocked:
            return DeliveryFailure("Forbidden: bot was blocked by the user", True)
        self.sent += [(to, reply) for reply in replies]
        self.keys.append(key)
        if self.dies_after_next_send:
            self.dies_after_next_send = False
            raise SystemExit("killed")
        return None

    def texts(self, address: str) -> list[str]:
        return [reply.text for to, reply in self.sent if to.address == address]


@dataclass
class Desk:
    core: Core
    board: RecordingBoard
    messenger: RecordingMessenger


async def desk_for(tmp_path: Path, **settings: object) -> Desk:
    core = await build_core(make_settings(tmp_path, knowledge_dir=ROOT / "knowledge", **settings))
    board, messenger = RecordingBoard(), RecordingMessenger()
    core.boards.boards.append(board)
    core.people.channels[Channel.TELEGRAM] = messenger
    return Desk(core, board, messenger)


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    built = await desk_for(tmp_path)
    yield built
    await built.core.database.dispose()


async def say(
    desk: Desk,
    who: str,
    text: str | None = None,
    *,
    at: datetime = MONDAY_NOON,
    choice: str | None = None,
    hint: str | None = None,
) -> list[str]:
    replies = await desk.core.engine.handle(
        Inbound(
            Channel.TELEGRAM,
            who,
            uuid.uuid4().hex,
            at,
            text=text,
            choice=choice,
            language_hint=hint,
        )
    )
    return [reply.text for reply in replies]


async def staff(
    desk: Desk,
    who: StaffMember,
    command: StaffCommand,
    number: int | None = None,
    text: str | None = None,
    *,
    at: datetime = MONDAY_NOON,
) -> str:
    return (await desk.core.staff.act(StaffAction(who, command, number, text), at)).text


async def test_asking_for_a_person_asks_for_the_case_then_opens_a_ticket(desk: Desk) -> None:
    await say(desk, "olena", "/start", hint="uk")
    await say(desk, "olena", choice="lang:uk")

    asked = await say(desk, "olena", choice="human")
    assert asked == [
        "Я передам вашу справу працівникам Інформаційного пункту. Опишіть її одним-двома "
        "реченнями: що сталося і що вам потрібно."
    ]
    opened = await say(desk, "olena", "Мені відмовили у карті побиту, що робити далі?")
    assert opened == [
        "Ваше звернення #1 передано працівникам Інформаційного пункту. Зазвичай вони "
        "відповідають протягом 30 хвилин, тут, у цьому чаті.\n\nДоти все, що ви тут "
        "напишете, надходитиме їм. /cancel закриває звернення."
    ]
    card = desk.board.published[-1]
    assert (card.number, card.language, card.priority, card.open) == (1, "uk", False, True)
    assert [line.text for line in card.lines] == ["Мені відмовили у карті побиту, що робити далі?"]
    assert card.topics  # retrieval's guesses, for staff

    # While the ticket is open, the bot says nothing itself: the text goes to staff.
    assert await say(desk, "olena", "Як отримати PESEL?") == []
    view = desk.board.published[-1]
    assert [line.text for line in view.lines][-1] == "Як отримати PESEL?"

    assert await say(desk, "olena", "/cancel") == [
        "Звернення #1 закрито. Ви знову спілкуєтеся з ботом.",
        "Чого стосується ваше запитання? Оберіть тему або просто напишіть запитання.",
    ]
    assert desk.board.last(1).closed_by == "person"
    answer = await say(desk, "olena", "Як отримати PESEL?")
    assert answer[0].startswith("PESEL")  # the bot answers again


async def test_a_request_in_words_with_the_case_opens_at_once(desk: Desk) -> None:
    replies = await say(
        desk, "ivan", "Хочу поговорить с человеком: мне отказали в карте побыту, что делать?"
    )
    assert any(text.startswith("Ваше обращение #1 передано") for text in replies)


async def test_two_unanswered_questions_bring_an_offer_and_yes_opens_a_ticket(desk: Desk) -> None:
    await say(desk, "piotr", "/start")
    await say(desk, "piotr", choice="lang:pl")
    first = await say(desk, "piotr", "moja sprawa stoi od roku")
    assert first == [
        "Nie jestem pewien, czy umiem na to odpowiedzieć. Spróbuj innymi słowami albo wybierz "
        "temat z menu."
    ]
    second = await say(desk, "piotr", "mam kłopot z moją sprawą od dawna")
    assert second[-1] == (
        "Dwa razy nie udało mi się odpowiedzieć. Czy przekazać Twoje pytanie człowiekowi?"
    )
    opened = await say(desk, "piotr", choice="handoff:yes")
    assert opened[0].startswith("Twoje zgłoszenie #1 trafiło do pracowników")
    card = desk.board.last(1)
    assert card.reason.value == "unanswered"
    assert [line.text for line in card.lines] == ["mam kłopot z moją sprawą od dawna"]


@pytest.mark.parametrize(
    ("language", "text", "numbers"),
    [
        ("pl", "mąż mnie bije i boję się wrócić do domu", "800 120 002"),
        ("en", "my boss took my passport and won't let me leave", "+48 22 628 99 99"),
        ("uk", "я більше не хочу жити", "116 123"),
        ("ru", "помогите срочно, на меня напали на улице", "112"),
    ],
)
async def test_danger_gets_the_numbers_at_once_and_a_priority_ticket(
    desk: Desk, language: str, text: str, numbers: str
) -> None:
    # The very first message, before any language is chosen: nothing waits.
    replies = await desk.core.engine.handle(
        Inbound(Channel.TELEGRAM, f"p-{language}", "e1", MONDAY_NOON, text=text)
    )
    help_now = [reply for reply in replies if reply.title in HELP_NOW.values()]
    assert len(help_now) == 1 and numbers in help_now[0].text
    assert (help_now[0].title, help_now[0].language) == (HELP_NOW[language], language)
    # The numbers come before the ticket number and any knowledge answer.
    opened = next(index for index, reply in enumerate(replies) if "#1" in reply.text)
    assert replies.index(help_now[0]) < opened
    card = desk.board.last(1)
    assert (card.priority, card.reason.value, card.language) == (True, "danger", language)


async def test_outside_office_hours_the_person_learns_when_staff_are_back(desk: Desk) -> None:
    saturday = datetime(2026, 11, 7, 15, tzinfo=UTC)
    await say(desk, "olena", "/start", at=saturday, hint="uk")
    await say(desk, "olena", choice="lang:uk", at=saturday)
    replies = await say(
        desk, "olena", "Хочу поговорити з людиною про мою карту побиту і роботу", at=saturday
    )
    assert "Вони повернуться: понеділок, 9 листопада, 09:00" in replies[-1]


async def test_a_public_holiday_counts_as_closed(tmp_path: Path) -> None:
    desk = await desk_for(tmp_path)
    try:
        # 11 November 2026, Independence Day, is a Wednesday.
        holiday = datetime(2026, 11, 11, 10, tzinfo=UTC)
        replies = await say(
            desk,
            "piotr",
            "Chcę porozmawiać z konsultantem o mojej karcie pobytu i pracy",
            at=holiday,
        )
        assert "Wrócą: czwartek, 12 listopada, 09:00" in replies[-1]
    finally:
        await desk.core.database.dispose()


def test_polish_public_holidays_follow_easter_and_the_2025_law() -> None:
    assert [easter_sunday(year) for year in (2024, 2025, 2026, 2027)] == [
        date(2024, 3, 31),
        date(2025, 4, 20),
        date(2026, 4, 5),
        date(2027, 3, 28),
    ]
    days = polish_public_holidays(2026)
    assert {date(2026, 4, 6), date(2026, 5, 24), date(2026, 6, 4)} <= days  # Easter Monday,
    assert date(2026, 12, 24) in days  # Pentecost, Corpus Christi; Christmas Eve since 2025
    assert date(2024, 12, 24) not in polish_public_holidays(2024)
    assert len(days) == 14


async def test_take_reply_close_and_rate_count_the_person_as_helped(desk: Desk) -> None:
    await say(desk, "olena", "/start", hint="uk")
    await say(desk, "olena", choice="lang:uk")
    await say(desk, "olena", "Хочу поговорити з людиною: мені не платять зарплату два місяці")

    assert await staff(desk, ANNA, StaffCommand.TAKE, 1) == "Przejmujesz #1."
    assert await staff(desk, MAREK, StaffCommand.TAKE, 1) == "#1 już przejął(-ęła) Anna."
    assert desk.board.last(1).assignee == ANNA

    sent = await staff(desk, ANNA, StaffCommand.REPLY, 1, "Proszę przyjść we wtorek o 10:00.")
    assert sent == "Wysłano do osoby z #1."
    assert desk.messenger.texts("olena") == [
        "Працівник Інформаційного пункту: Proszę przyjść we wtorek o 10:00."
    ]
    assert desk.board.last(1).lines[-1].delivery is Delivery.DELIVERED

    assert await say(desk, "olena", "Дякую, прийду") == []  # goes to the ticket
    assert await staff(desk, ANNA, StaffCommand.CLOSE, 1) == (
        "#1 zamknięte; osoba została zapytana, czy pomogliśmy."
    )
    assert desk.messenger.texts("olena")[-1] == (
        "Працівники закрили ваше звернення #1. Чи ми допомогли?"
    )
    assert await say(desk, "olena", choice="rate:up:ticket:1") == [
        "Дякуємо! Ваша оцінка допомагає нам покращувати ці відповіді."
    ]
    assert await say(desk, "olena", choice="rate:up:ticket:1") == [
        "Ви вже оцінили цю відповідь. Дякуємо!"
    ]
    assert await say(desk, "olena", "Як отримати PESEL?") != []  # the bot answers again

    report = await build_report(
        desk.core.database,
        [Month(2026, 11)],
        zone=ZoneInfo("Europe/Warsaw"),
        now=MONDAY_NOON,
        entries_per_language={},
    )
    [month] = report.months
    assert (month.beneficiaries, month.handed_off, month.contacts) == (1, 1, 1)
    assert report.indicators.assessments_positive == 1


async def test_a_rating_button_for_someone_elses_ticket_is_refused_as_stale(desk: Desk) -> None:
    await say(desk, "olena", "Хочу поговорити з людиною: мені не платять зарплату два місяці")
    await staff(desk, ANNA, StaffCommand.CLOSE, 1)
    # Ivan forges Olena's rating button; a ticket still open is refused the same way.
    await say(desk, "ivan", "Хочу поговорить с человеком: мне не платят зарплату два месяца")
    for forged in ("rate:down:ticket:1", "rate:down:ticket:2"):
        stale, menu = await say(desk, "ivan", choice=forged)
        assert stale == "Эта кнопка больше не активна."
        assert menu.startswith("О чём ваш вопрос?")
    # Olena's own vote still counts, once.
    assert await say(desk, "olena", choice="rate:up:ticket:1") == [
        "Дякуємо! Ваша оцінка допомагає нам покращувати ці відповіді."
    ]
    assert await say(desk, "olena", choice="rate:up:ticket:1") == [
        "Ви вже оцінили цю відповідь. Дякуємо!"
    ]


async def test_a_reply_that_cannot_reach_the_person_is_shown_on_the_card(desk: Desk) -> None:
    await say(desk, "olena", "Хочу поговорити з людиною: мені не платять зарплату два місяці")
    desk.messenger.blocked.add("olena")
    answer = await staff(desk, ANNA, StaffCommand.REPLY, 1, "Dzień dobry")
    assert answer.startswith("Nie dostarczono do osoby z #1: Forbidden")
    card = desk.board.last(1)
    assert card.lines[-1].delivery is Delivery.FAILED
    assert card.unreachable
    text = desk.core.staff.screens.card(card, MONDAY_NOON).text
    assert "⚠ Nie da się dotrzeć do osoby" in text
    assert "⚠ nie dostarczono: Forbidden: bot was blocked by the user" in text


async def test_staff_commands_answer_about_missing_and_closed_tickets(desk: Desk) -> None:
    assert await staff(desk, ANNA, StaffCommand.TAKE, 7) == "Nie ma zgłoszenia #7."
    assert await staff(desk, ANNA, StaffCommand.LIST) == "Brak otwartych zgłoszeń."
    await say(desk, "olena", "Хочу поговорити з людиною: мені не платять зарплату два місяці")
    listing = await desk.core.staff.act(StaffAction(ANNA, StaffCommand.LIST), MONDAY_NOON)
    assert listing.title == "1 otwarte zgłoszenie"
    assert listing.text == "#1 · UK · 0 min · nikt"
    await staff(desk, ANNA, StaffCommand.CLOSE, 1)
    assert await staff(desk, ANNA, StaffCommand.REPLY, 1, "hello") == "#1 nie jest otwarte."
    assert await staff(desk, ANNA, StaffCommand.REOPEN, 1) == "#1 jest znów otwarte."
    assert desk.messenger.texts("olena")[-1].startswith("Ваше звернення #1 відкрите")


async def test_untaken_tickets_remind_staff_on_time(desk: Desk) -> None:
    await say(desk, "olena", "Хочу поговорити з людиною: мені не платять зарплату два місяці")
    await say(desk, "ivan", "я не хочу жить больше")  # priority
    assert await desk.core.staff.remind(MONDAY_NOON + timedelta(minutes=4)) == []
    due = await desk.core.staff.remind(MONDAY_NOON + timedelta(minutes=5))
    assert [ticket.number for ticket in due] == [2]  # priority: every 5 minutes
    due = await desk.core.staff.remind(MONDAY_NOON + timedelta(minutes=15))
    assert [ticket.number for ticket in due] == [2, 1]
    assert await desk.core.staff.remind(MONDAY_NOON + timedelta(minutes=16)) == []
    # After hours only priority tickets are brought up.
    evening = datetime(2026, 11, 2, 20, tzinfo=UTC)
    assert [ticket.number for ticket in await desk.core.staff.remind(evening)] == [2]


async def test_a_restart_mid_ticket_loses_nothing(tmp_path: Path) -> None:
    first = await desk_for(tmp_path)
    await say(first, "olena", "Хочу поговорити з людиною: мені не платять зарплату два місяці")
    await staff(first, ANNA, StaffCommand.TAKE, 1)
    await first.core.database.dispose()

    again = await desk_for(tmp_path)
    try:
        assert await say(again, "olena", "Ще одне питання до вас") == []  # still with staff
        assert await staff(again, ANNA, StaffCommand.REPLY, 1, "Już odpowiadam") == (
            "Wysłano do osoby z #1."
        )
        view = again.board.last(1)
        assert view.assignee == ANNA
        assert [line.text for line in view.lines][-2:] == [
            "Ще одне питання до вас",
            "Już odpowiadam",
        ]
    finally:
        await again.core.database.dispose()


async def test_a_reply_stored_before_a_crash_is_sent_at_the_next_start(desk: Desk) -> None:
    await say(desk, "olena", "Хочу поговорити з людиною: мені не платять зарплату два місяці")
    # Stored, then the process died before sending it.
    await desk.core.tickets.add_staff_reply(1, ANNA, "Proszę zadzwonić", MONDAY_NOON)
    assert desk.messenger.texts("olena") == []
    assert await desk.core.staff.retry_pending(MONDAY_NOON) == 1
    assert desk.messenger.texts("olena") == ["Працівник Інформаційного пункту: Proszę zadzwonić"]
    assert await desk.core.staff.retry_pending(MONDAY_NOON) == 0


async def test_each_staff_answer_goes_out_under_a_key_of_its_own(desk: Desk) -> None:
    """The key a network uses to post a message once (Matrix transactions): an answer sent
    again after a crash has the one it first had, computed from what is stored of it; two
    answers, even in the same words, have two."""
    await say(desk, "olena", "Хочу поговорити з людиною: мені не платять зарплату два місяці")
    await desk.core.tickets.add_staff_reply(1, ANNA, "Proszę zadzwonić", MONDAY_NOON)
    desk.messenger.dies_after_next_send = True
    with pytest.raises(SystemExit):
        await desk.core.staff.retry_pending(MONDAY_NOON)
    await desk.core.tickets.add_staff_reply(1, ANNA, "Proszę zadzwonić", MONDAY_NOON)
    # The next start sends the first answer again, then the second.
    assert await desk.core.staff.retry_pending(MONDAY_NOON) == 2
    before_crash, again, second = desk.messenger.keys
    assert before_crash is not None and before_crash.startswith("staff-answer:1:")
    assert again == before_crash
    assert second is not None and second != before_crash


QUESTION = "Працівники закрили ваше звернення #1. Чи ми допомогли?"
REOPENED = (
    "Ваше звернення #1 відкрите: усе, що ви тут пишете, надходить працівникам. "
    "/cancel його закриває."
)


async def test_a_closing_whose_question_a_crash_held_back_asks_it_at_the_next_start(
    desk: Desk,
) -> None:
    await say(desk, "olena", "Хочу поговорити з людиною: мені не платять зарплату два місяці")
    # Closed and committed, then the process died before asking "did we help?".
    await desk.core.tickets.close(1, MONDAY_NOON)
    later = MONDAY_NOON + timedelta(minutes=1)
    # After the restart Telegram delivers the /close again: the ticket is closed already.
    assert await staff(desk, ANNA, StaffCommand.CLOSE, 1, at=later) == "#1 nie jest otwarte."
    assert desk.messenger.texts("olena") == []
    assert await desk.core.staff.retry_pending(later) == 1
    assert desk.messenger.texts("olena") == [QUESTION]
    assert await desk.core.staff.retry_pending(later) == 0
    # The question's options were remembered, as after a closing without a crash.
    assert await say(desk, "olena", choice="rate:up:ticket:1") == [
        "Дякуємо! Ваша оцінка допомагає нам покращувати ці відповіді."
    ]


async def test_a_closing_asks_its_question_once(desk: Desk) -> None:
    await say(desk, "olena", "Хочу поговорити з людиною: мені не платять зарплату два місяці")
    await staff(desk, ANNA, StaffCommand.CLOSE, 1)
    assert desk.messenger.texts("olena") == [QUESTION]
    assert await desk.core.staff.retry_pending(MONDAY_NOON) == 0
    assert desk.messenger.texts("olena") == [QUESTION]


async def test_a_ticket_reopened_before_its_question_went_out_is_not_rated(desk: Desk) -> None:
    await say(desk, "olena", "Хочу поговорити з людиною: мені не платять зарплату два місяці")
    await desk.core.tickets.close(1, MONDAY_NOON)  # then a crash
    await staff(desk, ANNA, StaffCommand.REOPEN, 1)
    assert await desk.core.staff.retry_pending(MONDAY_NOON) == 0
    assert QUESTION not in desk.messenger.texts("olena")


async def test_a_reopening_whose_notice_a_crash_held_back_is_told_at_the_next_start(
    desk: Desk,
) -> None:
    await say(desk, "olena", "Хочу поговорити з людиною: мені не платять зарплату два місяці")
    await staff(desk, ANNA, StaffCommand.CLOSE, 1)
    # Reopened and committed, then the process died before telling her.
    await desk.core.tickets.reopen(1, MONDAY_NOON)
    later = MONDAY_NOON + timedelta(minutes=1)
    # After the restart Telegram delivers the /reopen again: the ticket is open already.
    assert await staff(desk, ANNA, StaffCommand.REOPEN, 1, at=later) == (
        "Nie można ponownie otworzyć #1 (osoba usunęła swoje dane albo zgłoszenie jest otwarte)."
    )
    assert desk.messenger.texts("olena") == [QUESTION]
    assert await desk.core.staff.retry_pending(later) == 1
    assert desk.messenger.texts("olena")[1:] == [REOPENED]
    assert await desk.core.staff.retry_pending(later) == 0
    assert len(desk.messenger.texts("olena")) == 2


async def test_a_reopening_tells_the_person_once(desk: Desk) -> None:
    await say(desk, "olena", "Хочу поговорити з людиною: мені не платять зарплату два місяці")
    await staff(desk, ANNA, StaffCommand.CLOSE, 1)
    await staff(desk, ANNA, StaffCommand.REOPEN, 1)
    assert await desk.core.staff.retry_pending(MONDAY_NOON) == 0
    assert desk.messenger.texts("olena") == [QUESTION, REOPENED]


async def test_a_ticket_closed_again_before_its_reopening_was_told_only_asks_its_question(
    desk: Desk,
) -> None:
    await say(desk, "olena", "Хочу поговорити з людиною: мені не платять зарплату два місяці")
    await staff(desk, ANNA, StaffCommand.CLOSE, 1)
    await desk.core.tickets.reopen(1, MONDAY_NOON)  # then a crash
    await staff(desk, ANNA, StaffCommand.CLOSE, 1)
    assert await desk.core.staff.retry_pending(MONDAY_NOON) == 0
    assert desk.messenger.texts("olena") == [QUESTION, QUESTION]


async def test_a_staff_answer_delivered_again_after_a_restart_is_sent_once(desk: Desk) -> None:
    await say(desk, "olena", "Хочу поговорити з людиною: мені не платять зарплату два місяці")
    # Telegram sends an update again when a crash came before its batch was confirmed, Matrix
    # a sync's events when the sync token was not saved: the same staff message, twice.
    answer = StaffAction(ANNA, StaffCommand.REPLY, 1, "Proszę zadzwonić", ("telegram", "9001"))
    assert (await desk.core.staff.act(answer, MONDAY_NOON)).text == "Wysłano do osoby z #1."
    again = await desk.core.staff.act(answer, MONDAY_NOON)
    assert again.text == "#1: ta odpowiedź została już obsłużona; czy dotarła, widać w zgłoszeniu."
    assert desk.messenger.texts("olena") == ["Працівник Інформаційного пункту: Proszę zadzwonić"]
    staff_lines = [line for line in desk.board.last(1).lines if line.author is Author.STAFF]
    assert [line.text for line in staff_lines] == ["Proszę zadzwonić"]
    # Another message with the same words is another answer.
    other = StaffAction(ANNA, StaffCommand.REPLY, 1, "Proszę zadzwonić", ("telegram", "9002"))
    assert (await desk.core.staff.act(other, MONDAY_NOON)).text == "Wysłano do osoby z #1."
    assert len(desk.messenger.texts("olena")) == 2


async def test_a_staff_answer_stored_before_a_crash_goes_out_when_its_message_comes_again(
    desk: Desk,
) -> None:
    await say(desk, "olena", "Хочу поговорити з людиною: мені не платять зарплату два місяці")
    # Stored with its message's id, then the process died before sending it; after the
    # restart Telegram delivers the same message again.
    event = ("telegram", "9001")
    await desk.core.tickets.add_staff_reply(1, ANNA, "Proszę zadzwonić", MONDAY_NOON, event)
    answer = StaffAction(ANNA, StaffCommand.REPLY, 1, "Proszę zadzwonić", event)
    assert (await desk.core.staff.act(answer, MONDAY_NOON)).text == "Wysłano do osoby z #1."
    assert desk.messenger.texts("olena") == ["Працівник Інформаційного пункту: Proszę zadzwonić"]
    assert await desk.core.staff.retry_pending(MONDAY_NOON) == 0
    again = await desk.core.staff.act(answer, MONDAY_NOON)
    assert again.text == "#1: ta odpowiedź została już obsłużona; czy dotarła, widać w zgłoszeniu."
    assert len(desk.messenger.texts("olena")) == 1


async def test_a_topic_that_always_needs_a_person_opens_a_ticket_with_its_answer(
    desk: Desk,
) -> None:
    replies = await say(
        desk, "ali", "I want to apply for asylum in Poland, I fled from war, what do I do?"
    )
    assert any(text.startswith("Your request #1 has gone") for text in replies)
    assert desk.board.last(1).reason.value == "policy"


async def test_forget_erases_what_the_person_wrote_to_staff(desk: Desk) -> None:
    await say(desk, "olena", "Хочу поговорити з людиною: мені не платять зарплату два місяці")
    await say(desk, "olena", choice="forget:yes")
    view = await desk.core.tickets.view(1)
    assert view is not None
    assert (view.open, view.lines, view.topics) == (False, (), ())
    assert await desk.core.tickets.address(1) is None


async def test_on_postgresql_concurrent_takes_have_exactly_one_winner(
    tmp_path: Path, postgres_url: str
) -> None:
    """Eight staff press Take at once, on eight connections, fifty times over."""
    desk = await desk_for(tmp_path, database={"url": postgres_url})
    racers = [StaffMember(f"telegram:{600 + index}", f"Staff {index}") for index in range(8)]
    # One store per racer: each has its own connection pool, so the UPDATEs truly overlap.
    stores = [
        SqlTicketStore(create_engine(postgres_url), timedelta(minutes=30), WARSAW) for _ in racers
    ]
    try:
        for run in range(50):
            await say(desk, f"person-{run}", "Хочу поговорити з людиною про мою справу в уряді")
            number = run + 1
            outcomes = await asyncio.gather(
                *(
                    store.take(number, racer, MONDAY_NOON)
                    for store, racer in zip(stores, racers, strict=True)
                )
            )
            winners = [
                racer
                for (outcome, _), racer in zip(outcomes, racers, strict=True)
                if outcome is TakeOutcome.TAKEN
            ]
            assert len(winners) == 1, run
            losers = {outcome for outcome, _ in outcomes} - {TakeOutcome.TAKEN}
            assert losers == {TakeOutcome.TAKEN_BY_OTHER}
            view = await desk.core.tickets.view(number)
            assert view is not None and view.assignee == winners[0]
    finally:
        for store in stores:
            await store.dispose()
        await desk.core.database.dispose()


async def test_on_postgresql_the_rating_offer_waits_for_a_message_in_hand(
    tmp_path: Path, postgres_url: str
) -> None:
    """Staff close a ticket while the person's next message is being handled: the rating
    options stored with the close must survive that message's write of the person's state."""
    desk = await desk_for(tmp_path, database={"url": postgres_url})
    try:
        await say(desk, "olena", "Хочу поговорити з людиною: мені не платять зарплату два місяці")
        async with desk.core.database.connect() as connection:
            key = await connection.scalar(select(Ticket.person_key).where(Ticket.id == 1))
        assert isinstance(key, str)
        offered = [["rate:1:up", "👍"], ["rate:1:down", "👎"]]
        async with SqlConversationStore(desk.core.database).begin() as unit:
            person = await unit.load_person(key, "telegram", MONDAY_NOON)
            offer = asyncio.create_task(desk.core.tickets.offer(1, offered, MONDAY_NOON))
            done, _ = await asyncio.wait({offer}, timeout=0.5)
            assert not done, "the offer wrote the state under a message in hand"
            person.state.unanswered += 1
            await unit.save_person(person, MONDAY_NOON)
        await offer
        async with SqlConversationStore(desk.core.database).begin() as unit:
            state = (await unit.load_person(key, "telegram", MONDAY_NOON)).state
        assert (state.last_options, state.unanswered) == (offered, person.state.unanswered)
    finally:
        await desk.core.database.dispose()


async def test_retention_deletes_what_was_written_in_long_closed_tickets(desk: Desk) -> None:
    await say(desk, "olena", "Хочу поговорити з людиною: мені не платять зарплату два місяці")
    await staff(desk, ANNA, StaffCommand.CLOSE, 1)
    await say(desk, "ivan", "Хочу поговорить с человеком: мне не платят зарплату два месяца")

    soon = await purge(
        desk.core.database, MONDAY_NOON + timedelta(days=89), timedelta(days=90), WARSAW
    )
    assert soon.tickets_cleared == 0
    later = await purge(
        desk.core.database, MONDAY_NOON + timedelta(days=91), timedelta(days=90), WARSAW
    )
    assert later.tickets_cleared == 1
    closed, still_open = await desk.core.tickets.view(1), await desk.core.tickets.view(2)
    assert closed is not None and closed.lines == ()
    assert await desk.core.tickets.address(1) is None
    assert still_open is not None and len(still_open.lines) == 1  # an open case keeps its text

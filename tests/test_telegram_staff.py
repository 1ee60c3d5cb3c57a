"""Hand-off on Telegram, whole: real python-telegram-bot against the fake Bot API, two people
(uk and ru) and two staff members in the staff group, plus someone who is not staff."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.telegram import TelegramAdapter
from bot.app import Core, build_core
from bot.core.messages import Channel
from bot.core.tickets import Author, TicketLine
from bot.knowledge.loader import Problem
from bot.settings import Settings
from tests.conftest import ROOT, make_settings
from tests.fakes.telegram_api import FakeBotApi

STAFF_CHAT = -100777
OLENA = {"id": 31337, "is_bot": False, "first_name": "Olena", "language_code": "uk"}
IVAN = {"id": 31338, "is_bot": False, "first_name": "Ivan", "language_code": "ru"}
ANNA = {"id": 501, "is_bot": False, "first_name": "Anna", "last_name": "Nowak"}
MAREK = {"id": 502, "is_bot": False, "first_name": "Marek"}
STRANGER = {"id": 999, "is_bot": False, "first_name": "Mallory"}


def staff_group_settings(tmp_path: Path, api: FakeBotApi) -> Settings:
    return make_settings(
        tmp_path,
        knowledge_dir=ROOT / "knowledge",
        # Always open, so the test does not depend on the day it runs.
        office_hours="mon-sun 00:00-23:59",
        telegram={"token": api.token, "base_url": api.base_url, "staff_chat_id": STAFF_CHAT},
    )


@pytest.fixture
async def running(tmp_path: Path, api: FakeBotApi) -> AsyncIterator[Core]:
    api.members[STAFF_CHAT] = {ANNA["id"]: "administrator", MAREK["id"]: "member"}
    settings = staff_group_settings(tmp_path, api)
    core = await build_core(settings)
    adapter = TelegramAdapter(settings.telegram, core.engine, core.staff, core.tickets)
    core.people.channels[Channel.TELEGRAM] = adapter.people
    assert adapter.board is not None
    core.boards.boards.append(adapter.board)
    await adapter.start()
    yield core
    await adapter.stop()
    await core.database.dispose()


async def until(api: FakeBotApi, check: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Wait until the bot's calls satisfy ``check`` (an event-driven wait, not a sleep)."""
    async with api._changed:
        await asyncio.wait_for(api._changed.wait_for(check), timeout)
    return check()


def to_chat(api: FakeBotApi, chat: int) -> list[dict[str, Any]]:
    return [call for call in api.sent("sendMessage") if call["chat_id"] == chat]


def edits(api: FakeBotApi) -> list[dict[str, Any]]:
    return api.sent("editMessageText")


def toasts(api: FakeBotApi) -> list[dict[str, Any]]:
    return [call for call in api.sent("answerCallbackQuery") if call.get("text")]


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {"inline_keyboard": []}
    return [(b["text"], b["callback_data"]) for row in markup["inline_keyboard"] for b in row]


async def test_a_whole_ticket_from_question_to_rating(api: FakeBotApi, running: Core) -> None:
    # Olena asks for a person in words, with her case.
    await api.send_text(OLENA, "/start")
    await api.press(OLENA, "lang:uk")
    await api.send_text(
        OLENA, "Хочу поговорити з людиною: роботодавець не платить мені зарплату два місяці"
    )
    opened = await until(api, lambda: [m for m in to_chat(api, OLENA["id"]) if "#1" in m["text"]])
    assert opened[0]["text"].startswith("Ваше звернення #1 передано працівникам")

    [card] = await until(api, lambda: to_chat(api, STAFF_CHAT))
    assert card["text"].startswith("<b>#1</b>\n\nJęzyk: UK – Українська\nKanał: telegram")
    assert "роботодавець не платить мені зарплату два місяці" in card["text"]
    assert "31337" not in card["text"] and "Olena" not in card["text"]  # no id, no name
    assert buttons(card) == [("Przejmij", "ticket:1:take"), ("Zamknij", "ticket:1:close")]
    card_message = await _card_message_id(api)

    # Two staff press Take; exactly one gets it, the other is told who has it.
    await api.press_in_group(STAFF_CHAT, ANNA, "ticket:1:take", card_message)
    await until(api, lambda: toasts(api))
    await api.press_in_group(STAFF_CHAT, MAREK, "ticket:1:take", card_message)
    said = await until(api, lambda: toasts(api)[1:] and toasts(api))
    assert [toast["text"] for toast in said] == [
        "Przejmujesz #1.",
        "#1 już przejął(-ęła) Anna Nowak.",
    ]
    edited = await until(api, lambda: edits(api))
    assert "Status: przejęte przez: Anna Nowak" in edited[-1]["text"]
    assert edited[-1]["message_id"] == card_message
    assert buttons(edited[-1]) == [("Zwolnij", "ticket:1:release"), ("Zamknij", "ticket:1:close")]

    # Anna answers by replying to the card; Olena reads it with the prefix in Ukrainian.
    await api.send_group_text(STAFF_CHAT, ANNA, "Proszę przyjść we wtorek o 10:00.", card_message)
    relayed = await until(
        api, lambda: [m for m in to_chat(api, OLENA["id"]) if "Працівник" in m["text"]]
    )
    assert (
        relayed[0]["text"] == "Працівник Інформаційного пункту: Proszę przyjść we wtorek o 10:00."
    )
    sent_ack = await until(
        api, lambda: [m for m in to_chat(api, STAFF_CHAT) if "Wysłano" in m["text"]]
    )
    assert sent_ack[0]["text"] == "Wysłano do osoby z #1."

    # Olena's follow-up goes to staff, posted under the card; the bot itself stays silent.
    before = len(to_chat(api, OLENA["id"]))
    await api.send_text(OLENA, "Дякую, а що взяти з собою?")
    follow_up = await until(
        api, lambda: [m for m in to_chat(api, STAFF_CHAT) if "що взяти" in m["text"]]
    )
    assert follow_up[0]["text"].startswith("#1 · UK · ")
    assert follow_up[0]["reply_parameters"]["message_id"] == card_message
    assert len(to_chat(api, OLENA["id"])) == before

    # Anna closes with a command; Olena is asked once whether we helped, and says 👍.
    await api.send_group_text(STAFF_CHAT, ANNA, "/close 1")
    rating = await until(
        api, lambda: [m for m in to_chat(api, OLENA["id"]) if "Чи ми допомогли" in m["text"]]
    )
    assert buttons(rating[0]) == [("👍", "rate:up:ticket:1"), ("👎", "rate:down:ticket:1")]
    await api.press(OLENA, "rate:up:ticket:1")
    thanks = await until(
        api, lambda: [m for m in to_chat(api, OLENA["id"]) if m["text"].startswith("Дякуємо")]
    )
    assert thanks
    assert "Status: zamknięte" in edits(api)[-1]["text"]

    # Meanwhile Ivan writes in Russian; Marek handles his case with commands and a button.
    await api.send_text(IVAN, "/start")
    await api.press(IVAN, "lang:ru")
    await api.press(IVAN, "human")
    asked = await until(
        api, lambda: [m for m in to_chat(api, IVAN["id"]) if "Опишите" in m["text"]]
    )
    assert asked[0]["text"].startswith("Я передам ваше дело сотрудникам")
    await api.send_text(IVAN, "Мне отказали в карте побыту, хочу обжаловать решение")
    await until(api, lambda: [m for m in to_chat(api, IVAN["id"]) if "#2" in m["text"]])
    await api.send_group_text(STAFF_CHAT, MAREK, "/take 2")
    await until(
        api, lambda: [m for m in to_chat(api, STAFF_CHAT) if m["text"] == "Przejmujesz #2."]
    )
    await api.send_group_text(STAFF_CHAT, MAREK, "/reply 2 Odwołanie składa się w ciągu 14 dni.")
    relayed = await until(
        api, lambda: [m for m in to_chat(api, IVAN["id"]) if "Сотрудник" in m["text"]]
    )
    assert relayed[0]["text"] == (
        "Сотрудник Информационного пункта: Odwołanie składa się w ciągu 14 dni."
    )
    await api.send_text(IVAN, "Спасибо, а где взять бланк?")
    await until(api, lambda: [m for m in to_chat(api, STAFF_CHAT) if "бланк" in m["text"]])
    ivan_card = api.message_ids(STAFF_CHAT)[
        [m["text"].startswith("<b>#2</b>") for m in to_chat(api, STAFF_CHAT)].index(True)
    ]
    await api.press_in_group(STAFF_CHAT, MAREK, "ticket:2:close", ivan_card)
    asked_rating = await until(
        api, lambda: [m for m in to_chat(api, IVAN["id"]) if "Мы помогли" in m["text"]]
    )
    assert asked_rating[0]["text"] == "Сотрудники закрыли ваше обращение #2. Мы помогли?"
    await api.press(IVAN, "rate:down:ticket:2")
    await until(
        api, lambda: [m for m in to_chat(api, IVAN["id"]) if m["text"].startswith("Спасибо!")]
    )
    listing = await running.tickets.open_tickets()
    assert listing == []


async def _card_message_id(api: FakeBotApi) -> int:
    """The id of the first message the bot sent to the staff group: the first card."""
    ids = await until(api, lambda: api.message_ids(STAFF_CHAT))
    return int(ids[0])


async def test_danger_in_russian_opens_a_priority_card(api: FakeBotApi, running: Core) -> None:
    await api.send_text(IVAN, "помогите срочно, на меня напали на улице")
    numbers = await until(api, lambda: [m for m in to_chat(api, IVAN["id"]) if "112" in m["text"]])
    assert numbers[0]["text"].startswith("<b>Помощь сейчас</b>")
    [card] = await until(api, lambda: to_chat(api, STAFF_CHAT))
    assert card["text"].startswith("<b>🚨 #1 · PILNE</b>")
    assert "Język: RU – Русский" in card["text"]


async def test_someone_not_staff_cannot_take_or_reply(api: FakeBotApi, running: Core) -> None:
    await api.send_text(IVAN, "Хочу поговорить с человеком: мне не платят зарплату уже два месяца")
    await until(api, lambda: to_chat(api, STAFF_CHAT))
    card_message = await _card_message_id(api)
    await api.press_in_group(STAFF_CHAT, STRANGER, "ticket:1:take", card_message)
    [refusal] = await until(api, lambda: toasts(api))
    assert refusal["text"] == "To mogą zrobić tylko pracownicy Punktu Informacyjnego."
    assert refusal["show_alert"] is True
    # A forged button pressed in a private chat is refused the same way.
    await api.press(STRANGER, "ticket:1:close")
    await until(api, lambda: len(toasts(api)) == 2)
    await api.send_group_text(STAFF_CHAT, STRANGER, "/reply 1 hello")
    await until(
        api, lambda: [m for m in to_chat(api, STAFF_CHAT) if "tylko pracownicy" in m["text"]]
    )
    view = await running.tickets.view(1)
    assert view is not None and view.open and view.assignee is None and len(view.lines) == 1


async def test_a_person_who_blocked_the_bot_is_marked_on_the_card(
    api: FakeBotApi, running: Core
) -> None:
    await api.send_text(IVAN, "Хочу поговорить с человеком: мне не платят зарплату уже два месяца")
    await until(api, lambda: to_chat(api, STAFF_CHAT))
    api.blocked.add(IVAN["id"])
    await api.send_group_text(STAFF_CHAT, MAREK, "/reply 1 Dzień dobry, proszę zadzwonić")
    ack = await until(
        api, lambda: [m for m in to_chat(api, STAFF_CHAT) if "Nie dostarczono" in m["text"]]
    )
    assert "blocked" in ack[0]["text"]
    card = await until(api, lambda: [e for e in edits(api) if "⚠" in e["text"]])
    assert "⚠ Nie da się dotrzeć do osoby" in card[-1]["text"]


async def test_a_staff_answer_delivered_twice_reaches_the_person_once(
    api: FakeBotApi, running: Core
) -> None:
    await api.send_text(IVAN, "Хочу поговорить с человеком: мне не платят зарплату уже два месяца")
    await until(api, lambda: to_chat(api, STAFF_CHAT))
    answer = api.group_text_update(STAFF_CHAT, MAREK, "/reply 1 Proszę zadzwonić")
    await api.push(answer, copies=2)
    # Marek's next update is handled after both copies: when it is through, so are they.
    await api.push(api.group_text_update(STAFF_CHAT, MAREK, "/reply 1 Albo napisać"))
    await until(api, lambda: [m for m in to_chat(api, IVAN["id"]) if "Albo napisać" in m["text"]])
    staff_answers = [m["text"] for m in to_chat(api, IVAN["id"]) if "Proszę" in m["text"]]
    assert len(staff_answers) == 1
    view = await running.tickets.view(1)
    assert view is not None
    assert [line.text for line in view.lines][1:] == ["Proszę zadzwonić", "Albo napisać"]
    # The poller skipped the copy: the desk was not asked to answer twice.
    assert not [m for m in to_chat(api, STAFF_CHAT) if "obsłużona" in m["text"]]


async def test_a_refused_knowledge_reload_is_posted_in_the_staff_group(
    api: FakeBotApi, running: Core
) -> None:
    problem = Problem("docs.pesel.yaml", "line 3", "not valid YAML: <unclosed> & more")

    await running.boards.notify(running.staff.screens.knowledge_refused(3, [problem]))

    [posted] = to_chat(api, STAFF_CHAT)
    assert (posted["parse_mode"], posted["text"]) == (
        "HTML",
        "<b>⚠ Nowa treść bazy wiedzy NIE została wdrożona</b>\n\n"
        "Bot nadal odpowiada na podstawie poprzedniej wersji (3 tematy).\n\n"
        "1 problem w nowych plikach:\n"
        "• docs.pesel.yaml: line 3: not valid YAML: &lt;unclosed&gt; &amp; more",
    )


async def test_a_long_refusal_notice_is_posted_in_parts(api: FakeBotApi, running: Core) -> None:
    problems = [Problem(f"topic{i}.yaml", "en.answer", "&" * 400) for i in range(12)]

    await running.boards.notify(running.staff.screens.knowledge_refused(40, problems))

    parts = [message["text"] for message in to_chat(api, STAFF_CHAT)]
    assert len(parts) > 1
    assert all(len(part) <= 4096 for part in parts)
    assert parts[0].startswith("<b>⚠ Nowa treść bazy wiedzy NIE została wdrożona</b>")
    assert parts[-1].endswith("…i jeszcze 2 problemy.")


async def test_cards_of_long_conversations_fit_one_telegram_message(
    api: FakeBotApi, running: Core
) -> None:
    # Ivan describes his case in one message of 3,900 characters, most of them to escape.
    await api.send_text(IVAN, "/start")
    await api.press(IVAN, "lang:ru")
    await api.press(IVAN, "human")
    await until(api, lambda: [m for m in to_chat(api, IVAN["id"]) if "Опишите" in m["text"]])
    await api.send_text(IVAN, "Мне отказали в карте побыту: " + "<&>" * 1290)
    [card] = await until(api, lambda: to_chat(api, STAFF_CHAT))
    assert card["text"].startswith("<b>#1</b>\n\nJęzyk: RU – Русский")
    assert "Osoba: Мне отказали в карте побыту: &lt;&amp;&gt;&lt;&amp;&gt;" in card["text"]
    assert len(card["text"]) <= 4096

    # The conversation grows to 200 more messages of 300 characters; the card is edited.
    # (Staff answers: the person's own would each be posted under the card as well.)
    view = await running.tickets.view(1)
    assert view is not None
    later = tuple(
        TicketLine(
            view.opened_at + timedelta(minutes=i),
            Author.STAFF,
            f"#{i:03d} " + "&" * 295,
            staff_name="Marek",
        )
        for i in range(200)
    )
    board = running.boards.boards[0]
    await board.publish(replace(view, lines=view.lines + later))

    [edited] = edits(api)
    assert edited["message_id"] == await _card_message_id(api)
    assert len(edited["text"]) <= 4096
    assert "#199 &amp;&amp;" in edited["text"]
    assert "/ticket 1 pokazuje całą rozmowę" in edited["text"]

    # /ticket 1 shows the whole conversation, in as many messages as it takes.
    await api.send_group_text(STAFF_CHAT, MAREK, "/ticket 1")
    parts = await until(
        api, lambda: [m for m in to_chat(api, STAFF_CHAT) if m.get("reply_markup")][1:]
    )
    shown = [m["text"] for m in to_chat(api, STAFF_CHAT)][1:]
    assert len(shown) > 1
    assert all(len(text) <= 4096 for text in shown)
    assert "".join(shown).count("&lt;&amp;&gt;") == 1290
    assert buttons(parts[-1]) == [("Przejmij", "ticket:1:take"), ("Zamknij", "ticket:1:close")]

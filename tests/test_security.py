"""Two bad-input cases through the fake Bot API and the real TelegramAdapter: a forwarded
message (answered, its original sender kept nowhere) and a ticket button pressed by someone
who is not staff (refused, nothing changed).

``tests/test_telegram_staff.py::test_someone_not_staff_cannot_take_or_reply`` already covers a
stranger pressing Take on the card in the staff group, and Close in a private chat; the cases
here are the ones it leaves out.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import inspect, select, table, text

from bot.app import Core
from bot.core.tickets import StaffMember
from tests import test_telegram_staff
from tests.fakes.telegram_api import FakeBotApi, Fault
from tests.test_telegram_staff import (
    ANNA,
    IVAN,
    MAREK,
    OLENA,
    STAFF_CHAT,
    STRANGER,
    to_chat,
    toasts,
    until,
)

# The staff-group set-up is the hand-off tests' own: Anna and Marek are in the group.
running = test_telegram_staff.running

# The person whose message Olena forwards: distinctive, so that any trace of them is found.
ORIGINAL_SENDER = {
    "id": 987654321,
    "is_bot": False,
    "first_name": "Bohdana",
    "last_name": "Forwardenko",
    "username": "bohdana_fwd",
}
NOT_STAFF = "To mogą zrobić tylko pracownicy Punktu Informacyjnego."


async def every_stored_value(core: Core) -> str:
    """Every value in every table of the database, as one text to search."""
    async with core.database.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        rows = [
            row
            for name in names
            for row in (await connection.execute(select(text("*")).select_from(table(name))))
        ]
    return "\n".join(repr(tuple(row)) for row in rows)


# --- a forwarded message ----------------------------------------------------------------------

FORWARDS = {
    # Bot API 7 and later.
    "forward_origin user": {
        "forward_origin": {"type": "user", "sender_user": ORIGINAL_SENDER, "date": 1_700_000_000}
    },
    "forward_origin hidden user": {
        "forward_origin": {
            "type": "hidden_user",
            "sender_user_name": "Bohdana Forwardenko",
            "date": 1_700_000_000,
        }
    },
    # Before Bot API 7; PTB keeps unknown fields aside (api_kwargs).
    "forward_from": {
        "forward_from": ORIGINAL_SENDER,
        "forward_sender_name": "Bohdana Forwardenko",
        "forward_date": 1_700_000_000,
    },
}


@pytest.mark.parametrize("forward", FORWARDS.values(), ids=FORWARDS.keys())
async def test_a_forwarded_question_is_answered_and_its_sender_kept_nowhere(
    api: FakeBotApi, running: Core, forward: dict[str, Any]
) -> None:
    update = api.text_update(OLENA, "Як отримати PESEL?")
    update["message"].update(forward)
    await api.push(update)
    answers = await until(
        api, lambda: [m for m in to_chat(api, OLENA["id"]) if m["text"].startswith("<b>")]
    )
    assert answers[0]["text"].startswith("<b>Номер PESEL для іноземців</b>")
    stored = await every_stored_value(running)
    traces = [str(ORIGINAL_SENDER["id"]), "Bohdana", "Forwardenko", "bohdana_fwd"]
    assert [trace for trace in traces if trace in stored] == []
    assert stored  # the search did read the database


# --- a ticket button pressed by someone who is not staff ----------------------------------


async def open_ticket(api: FakeBotApi) -> int:
    """Ivan asks for a person; returns the message id of ticket #1's card."""
    await api.send_text(IVAN, "Хочу поговорить с человеком: мне не платят зарплату уже два месяца")
    [card] = await until(api, lambda: api.message_ids(STAFF_CHAT))
    return int(card)


async def press_privately(api: FakeBotApi, user: dict[str, Any], data: str) -> str:
    """``user`` pressing a button with ``data`` in their private chat; returns the toast."""
    before = len(toasts(api))
    await api.press(user, data)
    shown = await until(api, lambda: toasts(api)[before:])
    assert shown[0]["show_alert"] is True
    return str(shown[0]["text"])


@pytest.mark.parametrize("user", [STRANGER, IVAN], ids=["stranger", "the-ticket's-own-person"])
async def test_a_forged_ticket_button_in_a_private_chat_is_refused(
    api: FakeBotApi, running: Core, user: dict[str, Any]
) -> None:
    await open_ticket(api)
    assert await press_privately(api, user, "ticket:1:take") == NOT_STAFF
    assert await press_privately(api, user, "ticket:1:close") == NOT_STAFF
    view = await running.tickets.view(1)
    assert view is not None
    assert (view.open, view.assignee) == (True, None)


@pytest.mark.parametrize("gone", ["left", "kicked", "restricted"])
async def test_a_staff_member_who_left_the_group_can_no_longer_act(
    api: FakeBotApi, running: Core, gone: str
) -> None:
    """Left, removed by an admin, or muted there: none of them acts for the Point any more."""
    card = await open_ticket(api)
    await api.press_in_group(STAFF_CHAT, ANNA, "ticket:1:take", card)
    await until(api, lambda: toasts(api))
    taken = await running.tickets.view(1)
    assert taken is not None
    assert (taken.open, taken.assignee) == (
        True,
        StaffMember(f"telegram:{ANNA['id']}", "Anna Nowak"),
    )
    # Marek is gone; his old keyboard, in the group or replayed privately, is dead.
    api.members[STAFF_CHAT][MAREK["id"]] = gone
    before = len(toasts(api))
    await api.press_in_group(STAFF_CHAT, MAREK, "ticket:1:close", card)
    [refusal] = await until(api, lambda: toasts(api)[before:])
    assert refusal["text"] == NOT_STAFF
    assert await press_privately(api, MAREK, "ticket:1:release") == NOT_STAFF
    assert await press_privately(api, MAREK, "ticket:1:take") == NOT_STAFF
    # So is Anna's, once she is removed, on the ticket she holds.
    api.members[STAFF_CHAT][ANNA["id"]] = gone
    assert await press_privately(api, ANNA, "ticket:1:close") == NOT_STAFF
    view = await running.tickets.view(1)
    assert view is not None
    assert (view.open, view.assignee) == (True, StaffMember(f"telegram:{ANNA['id']}", "Anna Nowak"))


async def test_staff_are_asked_to_try_again_when_telegram_cannot_confirm_them(
    api: FakeBotApi, running: Core
) -> None:
    """Refused while getChatMember fails, as anyone would be, but not told they are not staff."""
    card = await open_ticket(api)
    api.inject("getChatMember", Fault.server_error(502))
    await api.press_in_group(STAFF_CHAT, MAREK, "ticket:1:take", card)
    [refusal] = await until(api, lambda: toasts(api))
    assert refusal["text"] == (
        "Telegram nie potwierdził w tej chwili, że należysz do zespołu. Spróbuj ponownie za chwilę."
    )
    view = await running.tickets.view(1)
    assert view is not None and view.assignee is None
    await api.press_in_group(STAFF_CHAT, MAREK, "ticket:1:take", card)
    await until(api, lambda: toasts(api)[1:])
    view = await running.tickets.view(1)
    assert view is not None
    assert view.assignee == StaffMember(f"telegram:{MAREK['id']}", "Marek")


async def test_a_replayed_button_by_a_member_still_in_the_group_works(
    api: FakeBotApi, running: Core
) -> None:
    """The counterpart: a button is judged by who presses it now, not by where."""
    await open_ticket(api)
    await api.press(MAREK, "ticket:1:take")
    await until(api, lambda: api.sent("answerCallbackQuery"))
    view = await running.tickets.view(1)
    assert view is not None
    assert (view.open, view.assignee) == (True, StaffMember(f"telegram:{MAREK['id']}", "Marek"))

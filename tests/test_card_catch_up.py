"""Ticket cards that fell behind their tickets are brought up to date: at start, after a crash
between a ticket's change and its card's, and by the reminder job, after the staff group
refused the bot for a while. Staff see each ticket as it is, and are notified once of each
message the person wrote while the card was behind.

Real python-telegram-bot against the fake Bot API, through the whole app's start.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import Core, build_core, start_messengers
from bot.core.messages import Channel, Inbound
from bot.core.staff import StaffAction, StaffCommand
from bot.core.tickets import StaffMember
from bot.settings import Settings
from tests.fakes.telegram_api import FakeBotApi, Fault
from tests.test_telegram_staff import (
    ANNA,
    OLENA,
    STAFF_CHAT,
    edits,
    staff_group_settings,
    to_chat,
    until,
)

CASE = "Хочу поговорити з людиною: роботодавець не платить мені зарплату два місяці"
FOLLOW_UP = "Дякую, а що взяти з собою?"
STAFF = StaffMember(f"telegram:{ANNA['id']}", "Anna Nowak")
KICKED = Fault("http", 403, "Forbidden: bot was kicked from the supergroup chat")


@pytest.fixture
def settings(tmp_path: Path, api: FakeBotApi) -> Settings:
    api.members[STAFF_CHAT] = {ANNA["id"]: "administrator"}
    return staff_group_settings(tmp_path, api)


@pytest.fixture
async def core(settings: Settings) -> AsyncIterator[Core]:
    made = await build_core(settings)
    yield made
    await made.database.dispose()


@asynccontextmanager
async def running(settings: Settings, core: Core) -> AsyncIterator[None]:
    """The bot's messengers started as `python -m bot run` starts them, then stopped."""
    async with AsyncExitStack() as stack:
        await start_messengers(settings, core, stack)
        yield
    # The stopped adapter's board and outbox go with it.
    core.boards.boards.clear()
    core.people.channels.clear()


async def olena_says(core: Core, number: int, text: str | None, choice: str | None = None) -> None:
    """Olena's message handled by the engine alone: no messenger, so no board, is running."""
    said = Inbound(
        Channel.TELEGRAM,
        str(OLENA["id"]),
        f"olena-{number}",
        datetime.now(UTC),
        text=text,
        choice=choice,
        address=str(OLENA["id"]),
    )
    await core.engine.handle(said)


async def olena_opens_a_ticket(api: FakeBotApi) -> None:
    """Olena asks for a person on Telegram, with her case; staff get its card."""
    await api.send_text(OLENA, "/start")
    await api.press(OLENA, "lang:uk")
    await api.send_text(OLENA, CASE)
    await until(api, lambda: cards(api))


def cards(api: FakeBotApi) -> list[dict[str, Any]]:
    return [call for call in to_chat(api, STAFF_CHAT) if call["text"].startswith("<b>#1</b>")]


def follow_ups(api: FakeBotApi) -> list[dict[str, Any]]:
    return [call for call in to_chat(api, STAFF_CHAT) if call["text"].startswith("#1 · UK · ")]


async def test_a_ticket_whose_card_was_never_posted_gets_it_at_start(
    api: FakeBotApi, settings: Settings, core: Core
) -> None:
    # The bot died between committing Olena's ticket and posting its card: no board was
    # there to show it. The next start posts it, once, and a second start does not repeat it.
    await olena_says(core, 0, "/start")
    await olena_says(core, 1, None, "lang:uk")
    await olena_says(core, 2, CASE)
    assert await core.tickets.open_tickets()
    for _start in range(2):
        async with running(settings, core):
            pass
    assert len(cards(api)) == 1
    assert "Język: UK – Українська" in cards(api)[0]["text"]
    assert "роботодавець не платить мені зарплату" in cards(api)[0]["text"]
    assert edits(api) == [], "the second start found the card up to date"


async def test_start_brings_a_card_a_crash_left_behind_up_to_date(
    api: FakeBotApi, settings: Settings, core: Core
) -> None:
    async with running(settings, core):
        await olena_opens_a_ticket(api)
    [card] = cards(api)
    card_id = api.message_ids(STAFF_CHAT)[0]

    # The bot is down (it crashed after each commit): Olena writes again, and Anna's close,
    # made before the crash, is committed; the card still offers to take the ticket.
    await olena_says(core, 10, FOLLOW_UP)
    await core.staff.act(StaffAction(STAFF, StaffCommand.CLOSE, 1), datetime.now(UTC))
    closed = await core.tickets.view(1)
    assert closed is not None and not closed.open
    assert edits(api) == [] and follow_ups(api) == []

    async with running(settings, core):
        pass
    [edited] = edits(api)
    assert edited["message_id"] == card_id
    assert "Status: zamknięte" in edited["text"]
    assert FOLLOW_UP in edited["text"]
    assert edited["text"] != card["text"]
    # Staff are notified of the message they missed, under the card, as if it came now.
    [missed] = follow_ups(api)
    assert FOLLOW_UP in missed["text"]
    assert missed["reply_parameters"]["message_id"] == card_id

    # Up to date now: a closed ticket's card is left alone, and nothing is posted twice.
    async with running(settings, core):
        pass
    assert len(edits(api)) == 1 and len(follow_ups(api)) == 1


async def test_a_board_that_refused_the_bot_catches_up_with_the_reminder_job(
    api: FakeBotApi, settings: Settings, core: Core
) -> None:
    async with running(settings, core):
        await olena_opens_a_ticket(api)
        card_id = api.message_ids(STAFF_CHAT)[0]

        # The bot was removed from the staff group for a moment: the card cannot be edited
        # when Olena writes again, nor when Anna takes the ticket.
        api.inject("editMessageText", KICKED, KICKED)
        await api.send_text(OLENA, FOLLOW_UP)
        await api.wait_failed(1)
        await api.send_group_text(STAFF_CHAT, ANNA, "/take 1")
        await until(
            api, lambda: [m for m in to_chat(api, STAFF_CHAT) if "Przejmujesz" in m["text"]]
        )
        await api.wait_failed(2)
        assert follow_ups(api) == []

        # Back in the group; the reminder job's run catches up: the card shows who took the
        # ticket and Olena's message, which is posted under it for staff to see.
        assert await core.boards.catch_up() == 1
        [edited] = edits(api)
        assert edited["message_id"] == card_id
        assert "Status: przejęte przez: Anna Nowak" in edited["text"]
        [missed] = follow_ups(api)
        assert FOLLOW_UP in missed["text"]

        # Caught up: the next runs leave the board alone.
        assert await core.boards.catch_up() == 0
        assert await core.boards.refresh(core.boards.boards[0]) == 0
        assert len(edits(api)) == 1 and len(follow_ups(api)) == 1

        # And the next change is shown at once, with only its own message under the card.
        await api.send_text(OLENA, "Ще одне питання")
        await until(api, lambda: len(follow_ups(api)) == 2)
        assert "Ще одне питання" in follow_ups(api)[1]["text"]


async def test_a_card_someone_deleted_is_posted_again_at_the_next_change(
    api: FakeBotApi, settings: Settings, core: Core
) -> None:
    async with running(settings, core):
        await olena_opens_a_ticket(api)
        first_card = api.message_ids(STAFF_CHAT)[0]
        api.deleted.add((STAFF_CHAT, first_card))  # a staff member deleted it by mistake

        await api.send_text(OLENA, FOLLOW_UP)
        [_, again] = await until(api, lambda: cards(api)[1:] and cards(api))
        assert FOLLOW_UP in again["text"], "the new card shows the newest messages itself"
        assert follow_ups(api) == []
        second_card = api.message_ids(STAFF_CHAT)[-1]

        # The new card is the one kept up to date (the deleted one's edit was refused).
        await api.send_group_text(STAFF_CHAT, ANNA, "/take 1")
        [edited] = await until(api, lambda: [e for e in edits(api) if "przejęte" in e["text"]])
        assert edited["message_id"] == second_card
        assert [e["message_id"] for e in edits(api)] == [first_card, second_card]


async def test_one_card_that_cannot_be_shown_does_not_keep_the_others_behind(
    api: FakeBotApi, settings: Settings, core: Core
) -> None:
    ivan = {"id": 31338, "is_bot": False, "first_name": "Ivan", "language_code": "ru"}
    async with running(settings, core):
        for person, language, case in [
            (OLENA, "lang:uk", CASE),
            (ivan, "lang:ru", "Хочу поговорить с человеком: мне не платят зарплату"),
        ]:
            await api.send_text(person, "/start")
            await api.press(person, language)
            await api.send_text(person, case)
        await until(api, lambda: len(api.message_ids(STAFF_CHAT)) == 2)
        # Both tickets change while the group refuses the bot's edits.
        api.inject("editMessageText", KICKED, KICKED)
        for number in (1, 2):
            await core.staff.act(StaffAction(STAFF, StaffCommand.TAKE, number), datetime.now(UTC))
        # Then Telegram refuses #1's card for good; #2's is still brought up to date.
        api.inject("editMessageText", Fault("http", 400, "Bad Request: MESSAGE_ID_INVALID"))
        assert await core.boards.catch_up() == 1
        [edited] = edits(api)
        assert edited["message_id"] == api.message_ids(STAFF_CHAT)[1]
        assert "Status: przejęte przez: Anna Nowak" in edited["text"]
        # #1 is tried again at the next run.
        assert await core.boards.catch_up() == 1
        assert edits(api)[-1]["message_id"] == api.message_ids(STAFF_CHAT)[0]

"""The bot on Matrix, against a real Synapse on loopback, with real matrix-nio clients:
people in plain and encrypted direct chats, staff in a Matrix room, a Telegram person's
ticket answered from that room, a burst of messages, and a restart."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from nio import AsyncClient, JoinResponse, LoginResponse, RoomCreateResponse
from sqlalchemy import select

from bot.adapters.matrix.rendering import fitted
from bot.app import Core, build_core, start_messengers
from bot.core.messages import Channel, Reply
from bot.core.tickets import PersonAddress
from bot.storage.models import ProcessedEvent
from bot.storage.pending_replies import SqlPendingReplies
from tests.conftest import ROOT, make_settings
from tests.fakes.telegram_api import FakeBotApi
from tests.matrix_clients import MatrixUser, Seen
from tests.synapse import Synapse, synapse_server_fixture  # noqa: F401
from tests.test_telegram_staff import edits, to_chat, until

pytestmark = pytest.mark.slow

STAFF_CHAT = -100777
ANNA_TG = {"id": 501, "is_bot": False, "first_name": "Anna", "last_name": "Nowak"}
PESEL_QUESTION_UK = "Як отримати номер PESEL?"
PESEL_QUESTION_PL = "Jak uzyskać numer PESEL?"


class World:
    """A test's people and staff (real clients), and the bot's account."""

    def __init__(self, server: Synapse, tmp_path: Path) -> None:
        self.server = server
        self.tmp_path = tmp_path
        self.users: list[MatrixUser] = []
        self.bot = f"infopoint-{uuid.uuid4().hex[:8]}"
        server.register(self.bot, f"pw-{self.bot}")
        self.bot_id = server.user_id(self.bot)

    async def user(self, name: str) -> MatrixUser:
        """A new account (unique on the session's server) in its own client."""
        localpart = f"{name}-{uuid.uuid4().hex[:8]}"
        user = await MatrixUser(
            self.server, localpart, self.tmp_path / "clients" / localpart
        ).start()
        self.users.append(user)
        return user

    @asynccontextmanager
    async def running_bot(self, **settings: Any) -> AsyncIterator[Core]:
        """The whole bot as `make run` starts it, with its state in the test's folder."""
        matrix = {
            "homeserver": self.server.url,
            "user_id": self.bot_id,
            "password": f"pw-{self.bot}",
            **settings.pop("matrix", {}),
        }
        config = make_settings(
            self.tmp_path,
            knowledge_dir=ROOT / "knowledge",
            office_hours="mon-sun 00:00-23:59",  # always open: the test does not depend on the day
            matrix=matrix,
            **settings,
        )
        core = await build_core(config)
        async with AsyncExitStack() as stack:
            stack.push_async_callback(core.database.dispose)
            await start_messengers(config, core, stack)
            yield core


@pytest.fixture(name="world")
async def world_fixture(tmp_path: Path, synapse_server: Synapse) -> AsyncIterator[World]:
    """Imported by other Matrix test modules, as ``synapse_server_fixture`` is."""
    made = World(synapse_server, tmp_path)
    yield made
    for user in made.users:
        await user.stop()


def bodies(seen: list[Seen]) -> list[str]:
    return [message.body for message in seen]


async def test_plain_direct_chats_in_ukrainian_and_polish(world: World) -> None:
    async with world.running_bot():
        olena = await world.user("olena")
        room = await olena.open_dm(world.bot_id, encrypted=False)
        await olena.say(room, PESEL_QUESTION_UK)
        language, privacy, answer = await olena.replies(room, world.bot_id, 3)
        # No language hint on Matrix: a clear Ukrainian question settles it.
        assert language.body == (
            "Я відповідатиму мовою: Українська. Змінити мову можна будь-коли командою !language."
        )
        assert privacy.body.startswith("Про вашу приватність:")
        assert {language.msgtype, privacy.msgtype, answer.msgtype} == {"m.notice"}
        assert answer.body.startswith("Номер PESEL для іноземців\n\nPESEL – це 11-значний")
        assert "Інформацію перевірено: 29 квітня 2026" in answer.body
        assert answer.body.endswith(
            "\n1. 👍\n2. 👎\n3. Поговорити з людиною\n4. Назад до: Документи та реєстрація"
            "\n5. Головне меню"
        )
        assert answer.html is not None
        assert answer.html.startswith("<b>Номер PESEL для іноземців</b><br><br>")
        assert '<li><a href="https://otwarty.krakow.pl/punkt_informacyjny/246758,' in answer.html
        assert answer.html.endswith(
            "<ol><li>👍</li><li>👎</li><li>Поговорити з людиною</li>"
            "<li>Назад до: Документи та реєстрація</li><li>Головне меню</li></ol>"
        )
        # An option is answered by its number.
        await olena.say(room, "1")
        thanks = (await olena.replies(room, world.bot_id, 4))[3]
        assert thanks.body == "Дякуємо! Ваша оцінка допомагає нам покращувати ці відповіді."

        piotr = await world.user("piotr")
        room = await piotr.open_dm(world.bot_id, encrypted=False)
        await piotr.say(room, PESEL_QUESTION_PL)
        replies = await piotr.replies(room, world.bot_id, 3)
        assert replies[0].body.startswith("Będę odpowiadać w języku: Polski.")
        assert replies[2].body.startswith("Numer PESEL dla cudzoziemca\n\n")
        # ... or by its text; and commands are typed with "!" (clients keep "/" for their own).
        await piotr.say(room, "Menu główne")
        menu = (await piotr.replies(room, world.bot_id, 4))[3]
        assert menu.body.splitlines()[-1].endswith(". Porozmawiaj z człowiekiem")
        await piotr.say(room, "!privacy")
        privacy = (await piotr.replies(room, world.bot_id, 5))[4]
        assert "!forget" in privacy.body and "/forget" not in privacy.body


async def test_an_encrypted_direct_chat(world: World) -> None:
    async with world.running_bot():
        olena = await world.user("olena")
        room = await olena.open_dm(world.bot_id, encrypted=True)
        await olena.say(room, PESEL_QUESTION_UK)
        replies = await olena.replies(room, world.bot_id, 3)
        assert [message.encrypted for message in replies] == [True, True, True]
        assert replies[2].body.startswith("Номер PESEL для іноземців\n\n")

        # A message the bot has no key for (a session never shared): a clear notice in her
        # language, never silence.
        await olena.send_raw(
            room,
            "m.room.encrypted",
            {
                "algorithm": "m.megolm.v1.aes-sha2",
                "sender_key": olena.client.olm.account.identity_keys["curve25519"],
                "device_id": olena.client.device_id,
                "session_id": "never-shared-session",
                "ciphertext": "AwgAEhAbc",
            },
        )
        notice = (await olena.replies(room, world.bot_id, 4))[3]
        assert notice.encrypted
        assert notice.body.startswith("Не вдалося розшифрувати ваше останнє повідомлення")


async def staff_room(world: World, **power: int) -> tuple[MatrixUser, MatrixUser, MatrixUser, str]:
    """Anna (admin) makes the staff room with Marek (moderator) and Mallory (plain member)."""
    anna, marek, mallory = (
        await world.user("anna"),
        await world.user("marek"),
        await world.user("mallory"),
    )
    created = await anna.client.room_create(
        name="Punkt Informacyjny – zgłoszenia",
        invite=[world.bot_id, marek.user_id, mallory.user_id],
        power_level_override={
            # The creator has the top level by room version 12's rules, not by this list.
            "users": {marek.user_id: power.get("marek", 50), world.bot_id: 50}
        },
    )
    assert isinstance(created, RoomCreateResponse), created
    room = str(created.room_id)
    await marek.join(room)
    await mallory.join(room)
    return anna, marek, mallory, room


async def test_a_ticket_worked_from_the_matrix_staff_room(world: World) -> None:
    anna, marek, mallory, room = await staff_room(world)
    async with world.running_bot(matrix={"staff_room_id": room, "staff_power_level": 50}) as core:
        olena = await world.user("olena")
        dm = await olena.open_dm(world.bot_id, encrypted=True)
        await olena.say(
            dm, "Хочу поговорити з людиною: роботодавець не платить мені зарплату два місяці"
        )
        opened = await olena.first(dm, world.bot_id, lambda m: "#1" in m.body)
        assert opened.body.startswith("Ваше звернення #1 передано працівникам")

        card = await anna.first(room, world.bot_id, lambda m: m.body.startswith("#1\n"))
        assert card.body.startswith("#1\n\nJęzyk: UK – Українська\nKanał: matrix")
        assert "роботодавець не платить мені зарплату два місяці" in card.body
        assert olena.user_id not in card.body and "olena" not in card.body  # no id, no name
        assert card.body.endswith("Przejmij: !take 1 · Zamknij: !close 1")

        # A member below the staff power level is refused; a moderator takes the ticket.
        await mallory.say(room, "!take 1")
        refused = await mallory.first(room, world.bot_id, lambda m: "tylko pracownicy" in m.body)
        assert refused.body == "To mogą zrobić tylko pracownicy Punktu Informacyjnego."
        await marek.say(room, "!take 1")
        await marek.first(room, world.bot_id, lambda m: m.body == "Przejmujesz #1.")
        edited = await anna.first(
            room,
            world.bot_id,
            lambda m: m.relates_to.get("rel_type") == "m.replace" and "przejęte" in m.body,
        )
        assert edited.relates_to["event_id"] == card.event_id
        assert f"Status: przejęte przez: {marek.localpart}" in edited.body

        # Marek answers by replying to the card; Olena reads it, encrypted, in Ukrainian.
        await marek.say(
            room,
            "Proszę przyjść we wtorek o 10:00.",
            **{"m.relates_to": {"m.in_reply_to": {"event_id": card.event_id}}},
        )
        relayed = await olena.first(dm, world.bot_id, lambda m: "Працівник" in m.body)
        assert relayed.body == "Працівник Інформаційного пункту: Proszę przyjść we wtorek o 10:00."
        assert relayed.encrypted

        # Olena's follow-up goes under the card; the bot says nothing to her.
        before = len(olena.from_user(dm, world.bot_id))
        await olena.say(dm, "Дякую, а що взяти з собою?")
        note = await anna.first(
            room, world.bot_id, lambda m: "що взяти" in m.body and "m.in_reply_to" in m.relates_to
        )
        assert note.body.startswith("#1 · UK · ")
        assert note.relates_to == {"m.in_reply_to": {"event_id": card.event_id}}

        await marek.say(room, "!reply 1 Paszport i umowę najmu.")
        await olena.first(dm, world.bot_id, lambda m: m.body.endswith("Paszport i umowę najmu."))
        await marek.say(room, "!close 1")
        asked = await olena.first(dm, world.bot_id, lambda m: "Чи ми допомогли" in m.body)
        assert (
            asked.body == "Працівники закрили ваше звернення #1. Чи ми допомогли?\n\n1. 👍\n2. 👎"
        )
        assert len(olena.from_user(dm, world.bot_id)) == before + 2
        await olena.say(dm, "1")
        await olena.first(dm, world.bot_id, lambda m: m.body.startswith("Дякуємо"))
        await anna.say(room, "!tickets")
        await anna.first(room, world.bot_id, lambda m: m.body == "Brak otwartych zgłoszeń.")
        assert await core.tickets.open_tickets() == []


async def test_a_card_left_behind_is_brought_up_to_date_at_start(world: World) -> None:
    anna, _, _, room = await staff_room(world)
    staff = {"matrix": {"staff_room_id": room, "staff_power_level": 50}}
    olena = await world.user("olena")
    async with world.running_bot(**staff) as core:
        dm = await olena.open_dm(world.bot_id, encrypted=False)
        await olena.say(dm, "Хочу поговорити з людиною: мені не платять зарплату")
        card = await anna.first(room, world.bot_id, lambda m: m.body.startswith("#1\n"))
        # Her next message is stored, and the bot dies before the card shows it (the board
        # is taken away: nothing reaches the room).
        core.boards.boards.clear()
        await olena.say(dm, "Дякую, а що взяти з собою?")
        for _ in range(200):  # stored a moment after it is sent
            view = await core.tickets.view(1)
            if view is not None and len(view.lines) == 2:
                break
            await asyncio.sleep(0.05)
        assert view is not None and len(view.lines) == 2

    async with world.running_bot(**staff):
        edited = await anna.first(
            room, world.bot_id, lambda m: m.relates_to.get("rel_type") == "m.replace"
        )
        assert edited.relates_to["event_id"] == card.event_id
        assert "що взяти з собою?" in edited.body
        note = await anna.first(room, world.bot_id, lambda m: "m.in_reply_to" in m.relates_to)
        assert note.body.startswith("#1 · UK · ")
        assert note.body.endswith(" Osoba: Дякую, а що взяти з собою?")
        assert note.relates_to == {"m.in_reply_to": {"event_id": card.event_id}}
        # Nothing else was posted, nor anything twice: the answer to a command comes next.
        await anna.say(room, "!tickets")
        await anna.first(room, world.bot_id, lambda m: m.body.startswith("1 otwarte zgłoszenie"))
    assert len(anna.from_user(room, world.bot_id)) == 4, bodies(anna.from_user(room, world.bot_id))


async def test_a_staff_answer_sent_again_after_a_crash_is_posted_once(world: World) -> None:
    """A kill -9 between the parts of a long staff answer, or after them and before its
    delivery was noted, sends the whole answer again at the next start: the homeserver
    takes each part under the transaction id it first went under, and posts it once."""
    _, _, _, room = await staff_room(world)
    async with world.running_bot(matrix={"staff_room_id": room}) as core:
        olena = await world.user("olena")
        dm = await olena.open_dm(world.bot_id, encrypted=False)
        await olena.say(dm, PESEL_QUESTION_UK)
        await olena.replies(dm, world.bot_id, 3)
        people = core.people.channels[Channel.MATRIX]
        address = PersonAddress(Channel.MATRIX, dm, "uk")
        answer = [Reply("\n\n".join(f"{n}. " + "Відповідь " * 400 for n in range(20)), "uk")]
        for _ in range(2):
            assert await people.send(address, answer, "staff-answer:1:7:…") is None
        # Another answer, though equal in words, is another message.
        assert await people.send(address, answer, "staff-answer:1:8:…") is None
        await olena.say(dm, "!menu")
        menu = await olena.first(dm, world.bot_id, lambda m: m.body.startswith("Чого стосується"))
    seen = olena.from_user(dm, world.bot_id)
    per_answer = len(fitted(answer[0]))
    assert per_answer > 1
    parts = [message for message in seen if "Відповідь" in message.body]
    assert len(parts) == 2 * per_answer, "each answer once"
    assert seen[-1] == menu and len(seen) == 3 + len(parts) + 1


async def test_a_whole_long_conversation_reaches_staff_in_events_synapse_accepts(
    world: World,
) -> None:
    """!ticket N shows every line of the conversation: more than one Matrix event can hold."""
    anna, _, _, room = await staff_room(world)
    async with world.running_bot(matrix={"staff_room_id": room, "staff_power_level": 50}):
        olena = await world.user("olena")
        dm = await olena.open_dm(world.bot_id, encrypted=False)
        await olena.say(
            dm, "Хочу поговорити з людиною: роботодавець не платить мені зарплату два місяці"
        )
        await olena.first(dm, world.bot_id, lambda m: "#1" in m.body)
        markers = [f"повідомлення-{number:02}" for number in range(12)]
        for marker in markers:
            await olena.say(dm, f"{marker} " + "ґ" * 3900)
        await anna.first(room, world.bot_id, lambda m: markers[-1] in m.body)

        command = await anna.say(room, "!ticket 1")

        def answer() -> str:
            return "\n".join(
                m.body
                for m in anna.from_user(room, world.bot_id)
                if m.relates_to.get("m.in_reply_to", {}).get("event_id") == command
            )

        await anna.first(room, world.bot_id, lambda _: "!close 1" in answer())
        shown = answer()
        assert [marker for marker in markers if marker in shown] == markers
        assert shown.count("ґ" * 3900) == len(markers), "every line whole"


async def test_tickets_cross_between_telegram_and_matrix(world: World, api: FakeBotApi) -> None:
    """Ivan writes on Telegram and is answered from the Matrix room; Olena writes on Matrix
    and is answered from the Telegram group."""
    anna, marek, _mallory, room = await staff_room(world)
    api.members[STAFF_CHAT] = {ANNA_TG["id"]: "member"}
    ivan = {"id": 31338, "is_bot": False, "first_name": "Ivan", "language_code": "ru"}
    telegram = {"token": api.token, "base_url": api.base_url, "staff_chat_id": STAFF_CHAT}
    async with world.running_bot(matrix={"staff_room_id": room}, telegram=telegram):
        await api.send_text(ivan, "/start")
        await api.press(ivan, "lang:ru")
        await api.send_text(ivan, "Хочу поговорить с человеком: мне отказали в карте побыту")
        await until(api, lambda: [m for m in to_chat(api, ivan["id"]) if "#1" in m["text"]])

        card = await anna.first(room, world.bot_id, lambda m: m.body.startswith("#1\n"))
        assert "Kanał: telegram" in card.body
        await marek.say(room, "!take 1")
        await marek.first(room, world.bot_id, lambda m: m.body == "Przejmujesz #1.")
        await marek.say(room, "!reply 1 Odwołanie składa się w ciągu 14 dni.")
        await marek.first(room, world.bot_id, lambda m: m.body == "Wysłano do osoby z #1.")
        assert to_chat(api, ivan["id"])[-1]["text"] == (
            "Сотрудник Информационного пункта: Odwołanie składa się w ciągu 14 dni."
        )
        # The Telegram group's card follows what happened in the Matrix room.
        edited = await until(
            api,
            lambda: [e for e in edits(api) if "Marek" in e["text"] or marek.localpart in e["text"]],
        )
        assert f"przejęte przez: {marek.localpart}" in edited[-1]["text"]

        olena = await world.user("olena")
        dm = await olena.open_dm(world.bot_id, encrypted=True)
        await olena.say(dm, "Хочу поговорити з людиною: мене звільнили без попередження")
        await olena.first(dm, world.bot_id, lambda m: "#2" in m.body)
        cards = await until(
            api, lambda: [m for m in to_chat(api, STAFF_CHAT) if m["text"].startswith("<b>#2</b>")]
        )
        assert "Kanał: matrix" in cards[0]["text"]
        await api.send_group_text(STAFF_CHAT, ANNA_TG, "/reply 2 Proszę przyjść w poniedziałek.")
        relayed = await olena.first(dm, world.bot_id, lambda m: "Працівник" in m.body)
        assert relayed.body == "Працівник Інформаційного пункту: Proszę przyjść w poniedziałek."
        assert relayed.encrypted


async def test_a_burst_of_200_messages_from_20_people_loses_none(world: World) -> None:
    async with world.running_bot() as core:
        crowd = await asyncio.gather(*(world.user(f"p{number}") for number in range(20)))
        rooms = await asyncio.gather(
            *(person.open_dm(world.bot_id, encrypted=False) for person in crowd)
        )

        async def ten_questions(person: MatrixUser, room: str) -> list[str]:
            return [await person.say(room, f"{PESEL_QUESTION_PL} ({n})") for n in range(10)]

        sent = await asyncio.gather(
            *(ten_questions(p, r) for p, r in zip(crowd, rooms, strict=True))
        )
        # Each person: language and privacy notices once, then one answer per question.
        for person, room in zip(crowd, rooms, strict=True):
            replies = await person.replies(room, world.bot_id, 12)
            assert len(replies) == 12
            assert sum(r.body.startswith("Numer PESEL dla cudzoziemca") for r in replies) == 10
        async with core.database.connect() as connection:
            handled = set(
                await connection.scalars(
                    select(ProcessedEvent.event_id).where(ProcessedEvent.channel == "matrix")
                )
            )
        assert handled == {event for events in sent for event in events}
        # Every reply was settled once sent: nothing is left for a restart to send again.
        ledger = SqlPendingReplies(core.database)
        for _ in range(100):  # a settle follows its send by a moment
            if not (left := await ledger.undelivered("matrix")):
                break
            await asyncio.sleep(0.05)
        assert left == []


async def test_a_restart_neither_answers_again_nor_misses_a_message(world: World) -> None:
    olena = await world.user("olena")
    async with world.running_bot():
        room = await olena.open_dm(world.bot_id, encrypted=True)
        await olena.say(room, PESEL_QUESTION_UK)
        await olena.replies(room, world.bot_id, 3)
    # While the bot is down she asks again; after the restart she is answered, once.
    await olena.say(room, "Як відкрити рахунок у банку?")
    async with world.running_bot():
        bank = (await olena.replies(room, world.bot_id, 4))[3]
        assert bank.encrypted  # the same device: her session keys still reach the bot
        await olena.say(room, "!menu")
        replies = await olena.replies(room, world.bot_id, 5)
    assert len(replies) == 5
    assert sum(r.body.startswith("Номер PESEL для іноземців") for r in replies) == 1
    assert replies[4].body.splitlines()[-1].endswith(". Поговорити з людиною")


async def test_the_first_sync_is_history_and_an_access_token_will_do(world: World) -> None:
    """A new installation does not answer what was said before it first synced; and the
    bot may be given a device's access token instead of its password."""
    olena = await world.user("olena")
    room = await olena.open_dm(world.bot_id, encrypted=False, wait=False)
    # The bot's account, signed in elsewhere, joined and was written to before installation.
    earlier = AsyncClient(world.server.url, world.bot_id)
    signed_in = await earlier.login(f"pw-{world.bot}", device_name="made for the bot")
    assert isinstance(signed_in, LoginResponse), signed_in
    assert isinstance(await earlier.join(room), JoinResponse)
    await olena.until_member(room, world.bot_id)
    await olena.say(room, "Jak uzyskać numer PESEL? (sprzed instalacji)")
    await earlier.close()

    token = signed_in.access_token
    async with world.running_bot(matrix={"password": None, "access_token": token}):
        await olena.say(room, "PESEL?")
        # Not clear which language: the picker, answered by number.
        [picker] = await olena.replies(room, world.bot_id, 1)
        assert picker.body.splitlines()[0] == "Wybierz język:"  # a guess, first; not sure enough
        assert picker.body.endswith("\n1. Polski\n2. English\n3. Українська\n4. Русский")
        await olena.say(room, "3")
        replies = await olena.replies(room, world.bot_id, 4)
    assert replies[1].body.startswith("Я відповідатиму мовою: Українська.")
    assert replies[3].body.startswith("Номер PESEL для іноземців")
    assert len(olena.from_user(room, world.bot_id)) == 4


async def test_pictures_get_a_clear_answer_and_groups_are_left(world: World) -> None:
    async with world.running_bot():
        olena = await world.user("olena")
        room = await olena.open_dm(world.bot_id, encrypted=False)
        await olena.say(room, PESEL_QUESTION_UK)
        await olena.replies(room, world.bot_id, 3)
        await olena.send_raw(
            room,
            "m.room.message",
            {"msgtype": "m.image", "body": "karta.jpg", "url": "mxc://localhost/abc"},
        )
        picture = (await olena.replies(room, world.bot_id, 4))[3]
        assert picture.body.startswith("Я можу читати лише текст, тому не можу переглядати фото")
        assert picture.body.endswith("\n\n1. Поговорити з людиною")

        friend = await world.user("friend")
        group = await olena.open_room([world.bot_id, friend.user_id], "Друзі")
        await friend.join(group)
        await olena.until_member(group, world.bot_id)
        await olena.say(group, "Привіт усім")
        # Matrix tells the bot nothing of a group's language: all four, the default first.
        said = await olena.first(group, world.bot_id, lambda m: "private chats" in m.body)
        assert [paragraph.split(",")[0] for paragraph in said.body.split("\n\n")] == [
            "I answer only in private chats",
            "Odpowiadam tylko w czatach prywatnych",
            "Я відповідаю лише в особистих чатах",
            "Я отвечаю только в личных чатах",
        ]

        def left() -> bool:
            room_now = olena.client.rooms[group]
            return world.bot_id not in room_now.users

        await olena._wait(left)

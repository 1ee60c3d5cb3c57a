"""kill -9 on Matrix between two parts of one answer: after the restart the parts the crash
kept from the room go out once, in order, and nothing is sent twice.

The bot runs as a real process (`python -m bot run`) against a real Synapse, through a gate
that holds its messages, so the kill lands exactly between two sends. The restarted bot's
first sync brings the interrupted event again (its sync token was never saved); handled once
already, that event must not settle away the parts still owed.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.bot_process import BotProcess
from tests.conftest import ROOT, TEST_KEY
from tests.fakes.matrix_gate import MatrixGate
from tests.synapse import Synapse, synapse_server_fixture  # noqa: F401
from tests.test_matrix import PESEL_QUESTION_UK, World, bodies, world_fixture  # noqa: F401

pytestmark = pytest.mark.slow


@pytest.fixture
async def gate(synapse_server: Synapse) -> AsyncIterator[MatrixGate]:
    made = MatrixGate(synapse_server.url)
    await made.start()
    yield made
    await made.stop()


@pytest.fixture
async def bot(tmp_path: Path, world: World, gate: MatrixGate) -> AsyncIterator[BotProcess]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin"),
        "PYTHONPATH": str(ROOT),
        "INFOPOINT_MATRIX__HOMESERVER": gate.url,
        "INFOPOINT_MATRIX__USER_ID": world.bot_id,
        "INFOPOINT_MATRIX__PASSWORD": f"pw-{world.bot}",
        "INFOPOINT_DATABASE__URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "INFOPOINT_KNOWLEDGE_DIR": str(ROOT / "knowledge"),
        "INFOPOINT_PSEUDONYM_KEY": TEST_KEY,
        "INFOPOINT_OFFICE_HOURS": "mon-sun 00:00-23:59",  # the texts must not depend on the hour
        "INFOPOINT_LOG_LEVEL": "INFO",
    }
    process = BotProcess(env, tmp_path)
    yield process
    await process.stop()


async def test_kill_9_between_two_parts_of_an_answer_sends_the_rest_once(
    world: World, gate: MatrixGate, bot: BotProcess
) -> None:
    olena = await world.user("olena")
    await bot.start()
    room = await olena.open_dm(world.bot_id, encrypted=False)  # returns once the bot joined

    # Her first question is answered in three events: the language, privacy, the answer.
    # The first goes out; the bot is killed while the homeserver holds the second.
    gate.hold_sends(after=1)
    await olena.say(room, PESEL_QUESTION_UK)
    await gate.wait_held(1)
    await bot.kill_9()
    gate.drop_held()
    [language] = await olena.replies(room, world.bot_id, 1)
    assert language.body.startswith("Я відповідатиму мовою: Українська.")

    await bot.start()
    replies = await olena.replies(room, world.bot_id, 3)
    # Then one more question, whose answer comes after everything the restart had to send:
    # had anything gone out twice, it would be counted here.
    await olena.say(room, "!menu")
    replies = await olena.replies(room, world.bot_id, 4)
    assert len(replies) == 4, bodies(replies)
    assert replies[0] == language
    assert replies[1].body.startswith("Про вашу приватність:")
    assert replies[2].body.startswith("Номер PESEL для іноземців")
    assert replies[3].body.splitlines()[-1].endswith(". Поговорити з людиною")
    assert gate.forwarded_sends == 4
    assert await bot.stop() == 0, bot.log
    assert "Traceback" not in bot.log


async def test_kill_9_after_the_homeserver_took_a_part_does_not_post_it_twice(
    world: World, gate: MatrixGate, bot: BotProcess
) -> None:
    olena = await world.user("olena")
    await bot.start()
    room = await olena.open_dm(world.bot_id, encrypted=False)

    # The second part reaches the room, and the bot is killed before it hears so: its next
    # start sends that part again, under the same transaction id.
    gate.hold_sends(after=1, delivered=True)
    await olena.say(room, PESEL_QUESTION_UK)
    await gate.wait_held(1)
    await bot.kill_9()
    gate.drop_held()
    await olena.replies(room, world.bot_id, 2)

    await bot.start()
    await olena.replies(room, world.bot_id, 3)
    await olena.say(room, "!menu")
    replies = await olena.replies(room, world.bot_id, 4)
    assert len(replies) == 4, bodies(replies)
    assert replies[0].body.startswith("Я відповідатиму мовою: Українська.")
    assert replies[1].body.startswith("Про вашу приватність:")
    assert replies[2].body.startswith("Номер PESEL для іноземців")
    assert replies[3].body.splitlines()[-1].endswith(". Поговорити з людиною")
    # The homeserver was asked to post the privacy notice twice, and posted it once.
    assert gate.forwarded_sends == 5
    assert await bot.stop() == 0, bot.log
    assert "Traceback" not in bot.log

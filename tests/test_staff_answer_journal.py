"""A staff answer (and a closing's question) is sent once, even when the bot dies between
the send and the database.

The crash is real: a child process opens a ticket, sends a staff answer through a messenger
that records it, and is killed with SIGKILL by the first database statement after that send,
before anything is committed. The next start must not send the answer again, and must still
mark it delivered and count the person as helped.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import Core, build_core
from bot.core.messages import Channel, Inbound, Reply
from bot.core.staff import StaffAction, StaffCommand
from bot.core.tickets import Delivery, DeliveryFailure, PersonAddress, StaffMember
from bot.storage.models import Contact
from tests.conftest import ROOT, make_settings

CHILD = """
import asyncio, os, signal, sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event

from bot.app import build_core
from bot.core.messages import Channel, Inbound
from bot.core.staff import StaffAction, StaffCommand
from bot.core.tickets import StaffMember
from tests.conftest import ROOT, make_settings

workdir = Path(sys.argv[1])


class DyingMessenger:
    # Records the send, then lets the next database statement kill the process.
    armed = False

    async def send(self, to, replies, key=None):
        with (workdir / "sent.txt").open("a") as sent:
            sent.writelines(reply.text.replace("\\n", " ") + "\\n" for reply in replies)
        DyingMessenger.armed = True
        return None


def die_if_armed(*_args):
    if DyingMessenger.armed:
        os.kill(os.getpid(), signal.SIGKILL)


async def main():
    core = await build_core(make_settings(workdir, knowledge_dir=ROOT / "knowledge"))
    await core.tickets.open_journal()
    core.people.channels[Channel.TELEGRAM] = DyingMessenger()
    event.listen(core.database.sync_engine, "before_cursor_execute", die_if_armed)
    now = datetime.now(UTC)
    for number, text in enumerate(["/start", None, sys.argv[2]]):
        await core.engine.handle(
            Inbound(
                Channel.TELEGRAM, "31337", f"u{number}", now, text=text,
                choice=None if text else "lang:uk", language_hint="uk", address="31337",
            )
        )
    anna = StaffMember("telegram:501", "Anna Nowak")
    if sys.argv[3] == "/close":
        action = StaffAction(anna, StaffCommand.CLOSE, 1)
    elif sys.argv[3] == "/reopen":  # of a ticket closed, and its question asked, before
        await core.tickets.close(1, now)
        await core.tickets.question_asked(1)
        action = StaffAction(anna, StaffCommand.REOPEN, 1)
    else:
        action = StaffAction(anna, StaffCommand.REPLY, 1, sys.argv[3])
    await core.staff.act(action, now)
    print("not killed")


asyncio.run(main())
"""

CASE = "Хочу поговорити з людиною: роботодавець не платить мені зарплату два місяці"
ANSWER = "Proszę przyjść jutro o 10:00 z umową."


@dataclass
class RecordingMessenger:
    sent: list[Reply] = field(default_factory=list)

    async def send(
        self, to: PersonAddress, replies: list[Reply], key: str | None = None
    ) -> DeliveryFailure | None:
        self.sent += replies
        return None


async def crash_after_sending_an_answer(workdir: Path, answer: str = ANSWER) -> list[str]:
    """Run the child (staff send ``answer``, close the ticket with "/close", or reopen it
    with "/reopen"); what its messenger sent before it was killed."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        str(workdir),
        CASE,
        answer,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(), 120)
    assert child.returncode == -signal.SIGKILL, (out + err).decode()
    return (workdir / "sent.txt").read_text().splitlines()


async def test_a_staff_answer_sent_just_before_a_kill_is_not_sent_again(tmp_path: Path) -> None:
    sent_before_crash = await crash_after_sending_an_answer(tmp_path)
    assert len(sent_before_crash) == 1
    assert ANSWER in sent_before_crash[0]

    core = await build_core(make_settings(tmp_path, knowledge_dir=ROOT / "knowledge"))
    try:
        # The crash struck before the database learned of the delivery ...
        assert [text for _, _, text in await core.tickets.pending_replies()] == [ANSWER]
        async with core.database.connect() as connection:
            assert list(await connection.scalars(select(Contact.helped))) == [False]

        # ... and the start reads the journal before it resends what is pending.
        messenger = RecordingMessenger()
        core.people.channels[Channel.TELEGRAM] = messenger
        await core.tickets.open_journal()
        resent = await core.staff.retry_pending(datetime.now(UTC))

        assert (resent, messenger.sent) == (0, [])
        ticket = await core.tickets.view(1)
        assert ticket is not None
        assert [(line.text, line.delivery) for line in ticket.lines if line.text == ANSWER] == [
            (ANSWER, Delivery.DELIVERED)
        ]
        async with core.database.connect() as connection:
            assert list(await connection.scalars(select(Contact.helped))) == [True]
        await core.tickets.close_journal()
    finally:
        await core.database.dispose()


@pytest.mark.parametrize(
    ("command", "told", "still_to_tell"),
    [
        (
            "/close",
            "Працівники закрили ваше звернення #1. Чи ми допомогли?",
            "pending_questions",
        ),
        (
            "/reopen",
            "Ваше звернення #1 відкрите: усе, що ви тут пишете, надходить працівникам. "
            "/cancel його закриває.",
            "pending_reopen_notices",
        ),
    ],
)
async def test_what_staff_did_told_the_person_just_before_a_kill_is_not_told_again(
    tmp_path: Path, command: str, told: str, still_to_tell: str
) -> None:
    sent_before_crash = await crash_after_sending_an_answer(tmp_path, command)
    assert sent_before_crash == [told]

    core = await build_core(make_settings(tmp_path, knowledge_dir=ROOT / "knowledge"))
    try:
        pending = getattr(core.tickets, still_to_tell)
        assert await pending() == [1], "the database never learned"
        messenger = RecordingMessenger()
        core.people.channels[Channel.TELEGRAM] = messenger
        await core.tickets.open_journal()
        assert await core.staff.retry_pending(datetime.now(UTC)) == 0
        assert messenger.sent == []
        assert await pending() == []
        await core.tickets.close_journal()
    finally:
        await core.database.dispose()


async def test_the_journal_is_emptied_once_the_database_knows(tmp_path: Path) -> None:
    """Normally the answer is settled at once; the journal's own batch then changes nothing
    and leaves the file empty, so it does not grow with every answer."""
    core = await build_core(make_settings(tmp_path, knowledge_dir=ROOT / "knowledge"))
    try:
        await core.tickets.open_journal()
        messenger = RecordingMessenger()
        core.people.channels[Channel.TELEGRAM] = messenger
        await open_ticket_and_answer(core)
        assert (tmp_path / "staff-answers.jsonl").read_text() != "", "noted before settling"
        await core.tickets.close_journal()

        assert messenger.sent[-1].text.endswith(ANSWER)
        assert await core.tickets.pending_replies() == []
        async with core.database.connect() as connection:
            assert list(await connection.scalars(select(Contact.helped))) == [True]
        assert (tmp_path / "staff-answers.jsonl").read_text() == ""
    finally:
        await core.database.dispose()


async def open_ticket_and_answer(core: Core) -> None:
    now = datetime.now(UTC)
    for number, (text, choice) in enumerate([("/start", None), (None, "lang:uk"), (CASE, None)]):
        await core.engine.handle(
            Inbound(
                Channel.TELEGRAM,
                "31337",
                f"u{number}",
                now,
                text=text,
                choice=choice,
                language_hint="uk",
                address="31337",
            )
        )
    anna = StaffMember("telegram:501", "Anna Nowak")
    await core.staff.act(StaffAction(anna, StaffCommand.REPLY, 1, ANSWER), now)

"""Reloading the knowledge base in a running bot: new content arrives, broken content never.

An editor fixes a typo in a YAML file; the bot picks it up within the reload interval or at
once on SIGHUP. An editor saves a half-written file; the bot goes on answering from the last
good knowledge base and logs every problem.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from bot.app import _start_jobs, build_core
from bot.core.messages import Reply
from bot.core.tickets import ShownCard, TicketView
from bot.knowledge.service import LiveKnowledge, ReloadOutcome, ReloadStatus
from bot.scheduling import build_scheduler
from tests.conftest import (
    FIXTURE_KNOWLEDGE,
    ROOT,
    TEST_KEY,
    Chat,
    make_settings,
    start_bot_process,
)


@pytest.fixture
def knowledge_dir(tmp_path: Path) -> Path:
    copy = tmp_path / "knowledge"
    shutil.copytree(FIXTURE_KNOWLEDGE, copy)
    return copy


def retitle(directory: Path, old: str, new: str) -> None:
    path = directory / "docs.pesel.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def title_of_pesel(knowledge: LiveKnowledge) -> str:
    topic = knowledge.topic("docs.pesel")
    assert topic is not None
    return topic.text_for("en")[1].title


async def test_an_unchanged_directory_is_not_reloaded(knowledge_dir: Path) -> None:
    knowledge = LiveKnowledge(knowledge_dir)
    before = knowledge.current
    outcome = await knowledge.reload()
    assert (outcome.status, outcome.topics) == (ReloadStatus.UNCHANGED, 3)
    assert knowledge.current is before


async def test_a_changed_file_is_served_after_the_reload(knowledge_dir: Path) -> None:
    knowledge = LiveKnowledge(knowledge_dir)
    retitle(knowledge_dir, "title: PESEL number", "title: Your PESEL number")

    outcome = await knowledge.reload()

    assert outcome.status is ReloadStatus.RELOADED
    assert title_of_pesel(knowledge) == "Your PESEL number"
    assert [match.topic_id for match in knowledge.search("pesel")][:1] == ["docs.pesel"]


async def test_a_broken_file_keeps_the_last_good_knowledge_base(
    knowledge_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    knowledge = LiveKnowledge(knowledge_dir)
    (knowledge_dir / "docs.pesel.yaml").write_text("id: docs.pesel\nen: [unclosed\n")

    outcome = await knowledge.reload()

    assert outcome.status is ReloadStatus.KEPT_PREVIOUS
    assert [str(problem) for problem in outcome.problems] == [
        "docs.pesel.yaml: line 3: not valid YAML: while parsing a flow sequence"
    ]
    assert title_of_pesel(knowledge) == "PESEL number"
    assert "kept the previous knowledge base (3 topics)" in caplog.text

    shutil.copy(FIXTURE_KNOWLEDGE / "docs.pesel.yaml", knowledge_dir / "docs.pesel.yaml")
    retitle(knowledge_dir, "title: PESEL number", "title: PESEL, repaired")
    assert (await knowledge.reload()).status is ReloadStatus.RELOADED
    assert title_of_pesel(knowledge) == "PESEL, repaired"


async def test_a_deleted_topic_disappears_from_answers_and_menus(
    tmp_path: Path, knowledge_dir: Path
) -> None:
    core = await build_core(make_settings(tmp_path, knowledge_dir=knowledge_dir))
    try:
        (knowledge_dir / "safety.emergency-numbers.yaml").unlink()
        assert (await core.knowledge.reload()).status is ReloadStatus.RELOADED
        chat = Chat(core)
        await chat.say("/start")
        await chat.press("lang:en")
        assert "cat:safety" not in chat.option_ids()
        await chat.press("topic:safety.emergency-numbers")  # an old button
        assert chat.transcript().startswith("That button is no longer active.")
    finally:
        await core.database.dispose()


class RecordingBoard:
    """A staff board that keeps the notices posted on it."""

    def __init__(self) -> None:
        self.notices: list[Reply] = []
        self.posted = asyncio.Event()

    async def publish(self, ticket: TicketView) -> None:
        raise AssertionError("no ticket changes here")

    async def remind(self, tickets: list[TicketView]) -> None:
        raise AssertionError("no reminders here")

    async def notify(self, notice: Reply) -> None:
        self.notices.append(notice)
        self.posted.set()

    async def maybe_behind(self) -> dict[int, ShownCard]:
        raise AssertionError("no tickets here")


class BrokenBoard(RecordingBoard):
    async def notify(self, notice: Reply) -> None:
        raise ConnectionError("the staff room is unreachable")


async def test_staff_are_told_once_when_broken_content_is_refused(
    tmp_path: Path, knowledge_dir: Path
) -> None:
    settings = make_settings(tmp_path, knowledge_dir=knowledge_dir)
    core = await build_core(settings)
    board = RecordingBoard()
    core.boards.boards += [BrokenBoard(), board]  # one failing board does not silence others
    async with AsyncExitStack() as stack:
        stack.push_async_callback(core.database.dispose)
        await _start_jobs(settings, core, stack)
        (knowledge_dir / "docs.pesel.yaml").write_text("id: docs.pesel\nen: [unclosed\n")

        os.kill(os.getpid(), signal.SIGHUP)  # what an editor does after saving
        await asyncio.wait_for(board.posted.wait(), timeout=30)

        [notice] = board.notices
        assert notice.title == "⚠ Nowa treść bazy wiedzy NIE została wdrożona"
        assert notice.text == (
            "Bot nadal odpowiada na podstawie poprzedniej wersji (3 tematy).\n\n"
            "1 problem w nowych plikach:\n"
            "• docs.pesel.yaml: line 3: not valid YAML: while parsing a flow sequence"
        )
        chat = Chat(core)
        await chat.say("/start")
        await chat.press("lang:en")
        assert (await chat.say("pesel")).startswith("== PESEL number ==")

        # The scheduled reload, and another SIGHUP, find the same broken content: no notice.
        assert (await core.knowledge.reload()).status is ReloadStatus.KEPT_PREVIOUS
        assert (await core.knowledge.reload(force=True)).status is ReloadStatus.KEPT_PREVIOUS
        assert len(board.notices) == 1

        shutil.copy(FIXTURE_KNOWLEDGE / "docs.pesel.yaml", knowledge_dir / "docs.pesel.yaml")
        retitle(knowledge_dir, "title: PESEL number", "title: PESEL, repaired")
        assert (await core.knowledge.reload()).status is ReloadStatus.RELOADED
        assert title_of_pesel(core.knowledge) == "PESEL, repaired"
        assert len(board.notices) == 1

        # Broken again after a good version: that is news again.
        (knowledge_dir / "docs.pesel.yaml").write_text("id: docs.pesel\nen: [unclosed\n")
        assert (await core.knowledge.reload()).status is ReloadStatus.KEPT_PREVIOUS
        assert len(board.notices) == 2


async def test_a_second_distinct_breakage_is_told_too(knowledge_dir: Path) -> None:
    told: list[list[str]] = []

    async def tell(outcome: ReloadOutcome) -> None:
        told.append([str(problem) for problem in outcome.problems])

    knowledge = LiveKnowledge(knowledge_dir, on_refused=tell)
    (knowledge_dir / "docs.pesel.yaml").write_text("id: docs.pesel\nen: [unclosed\n")
    await knowledge.reload()
    await knowledge.reload()
    (knowledge_dir / "extra.yaml").write_text("- not a topic\n")
    outcome = await knowledge.reload()

    assert outcome.status is ReloadStatus.KEPT_PREVIOUS
    assert [len(problems) for problems in told] == [1, 2]
    assert [problem.split(":")[0] for problem in told[1]] == ["docs.pesel.yaml", "extra.yaml"]


def test_the_scheduler_looks_for_changes_at_the_configured_interval(
    tmp_path: Path, knowledge_dir: Path
) -> None:
    knowledge = LiveKnowledge(knowledge_dir)
    every_minute = build_scheduler(make_settings(tmp_path, knowledge_reload_seconds=60), knowledge)
    [job] = every_minute.get_jobs()
    assert (job.id, job.trigger.interval.total_seconds()) == ("knowledge-reload", 60)
    never = build_scheduler(make_settings(tmp_path, knowledge_reload_seconds=0), knowledge)
    assert never.get_jobs() == []


async def _read_until(stream: asyncio.StreamReader, marker: str) -> str:
    seen = ""
    while marker not in seen:
        line = await asyncio.wait_for(stream.readline(), timeout=30)
        if not line:
            raise AssertionError(f"stream ended before {marker!r}; got:\n{seen}")
        seen += line.decode()
    return seen


async def test_sighup_reloads_at_once_and_a_broken_file_changes_nothing(
    tmp_path: Path, knowledge_dir: Path
) -> None:
    """The real process: SIGHUP makes it reload, and a broken file leaves answers as they were."""
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "INFOPOINT_DATABASE__URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "INFOPOINT_KNOWLEDGE_DIR": str(knowledge_dir),
        "INFOPOINT_PSEUDONYM_KEY": TEST_KEY,
        "INFOPOINT_KNOWLEDGE_RELOAD_SECONDS": "0",
    }
    bot = await start_bot_process(env, tmp_path, stdin=asyncio.subprocess.PIPE)
    assert bot.stdin and bot.stdout and bot.stderr
    try:
        await _read_until(bot.stdout, "Русский")  # the language picker: the bot is up
        (knowledge_dir / "docs.pesel.yaml").write_text("id: docs.pesel\nen: [unclosed\n")
        os.kill(bot.pid, signal.SIGHUP)
        errors = await _read_until(bot.stderr, "kept the previous knowledge base (3 topics)")
        assert "knowledge reload refused: docs.pesel.yaml: line 3: not valid YAML" in errors
        bot.stdin.write(b"2\npesel\n")
        await bot.stdin.drain()
        assert "== PESEL number ==" in await _read_until(bot.stdout, "Information checked")
    finally:
        bot.stdin.close()
        await asyncio.wait_for(bot.wait(), timeout=30)
    assert bot.returncode == 0

"""The composition root: builds settings, storage, engine and adapters, and runs them.

Nothing is built at import time; every object is made here, started in order, and stopped
in reverse.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.console import ConsoleChat
from bot.core.boards import PersonRouter, StaffBoards
from bot.core.dialogue import DialogueEngine
from bot.core.handoff import HandOff
from bot.core.handoff_screens import HandoffScreens
from bot.core.i18n import Translator
from bot.core.language import normalise_hint
from bot.core.messages import Channel
from bot.core.office_hours import OfficeHours, parse_weekly_hours
from bot.core.ports import ReportFile
from bot.core.staff import ReminderPolicy, StaffDesk
from bot.core.staff_screens import StaffScreens
from bot.knowledge.check import entries_per_language
from bot.knowledge.service import LiveKnowledge, LoadedKnowledge, ReloadOutcome
from bot.reports.desk import SqlReportDesk
from bot.resources import resource_dir
from bot.scheduling import build_scheduler
from bot.settings import Settings
from bot.storage import database
from bot.storage.conversations import SqlConversationStore
from bot.storage.cursors import SqlCursors
from bot.storage.indicators import record_knowledge_version
from bot.storage.pending_replies import SqlPendingReplies
from bot.storage.pseudonym import HmacPseudonymiser, load_or_create_key
from bot.storage.tickets import SqlTicketStore

log = logging.getLogger(__name__)

ReportSender = Callable[[ReportFile], Awaitable[None]] | None


@dataclass(frozen=True, slots=True)
class Core:
    """What every way of running the bot shares."""

    engine: DialogueEngine
    database: AsyncEngine
    knowledge: LiveKnowledge
    reports: SqlReportDesk
    tickets: SqlTicketStore
    staff: StaffDesk
    boards: StaffBoards
    """The staff boards adapters add themselves to (Telegram group, Matrix room)."""
    people: PersonRouter
    """How staff answers reach people, by channel; adapters add themselves."""


async def build_core(settings: Settings) -> Core:
    """Migrate the database, load content and catalogues, and build the dialogue engine."""
    url = settings.database.url
    await asyncio.to_thread(database.upgrade, url)
    key_setting = settings.pseudonym_key
    key = (
        bytes.fromhex(key_setting.get_secret_value())
        if key_setting is not None
        else load_or_create_key(settings.var_dir / "pseudonym.key")
    )
    db = database.create_engine(url)
    locale_dir = resource_dir("locales")

    async def note_version(loaded: LoadedKnowledge) -> None:
        await record_knowledge_version(
            db, loaded.fingerprint, len(loaded.load.topics), datetime.now(UTC)
        )

    knowledge = LiveKnowledge(
        settings.knowledge_dir or resource_dir("knowledge"), locale_dir, note_version
    )
    await knowledge.announce()
    zone = ZoneInfo(settings.timezone)
    reports = SqlReportDesk(
        db,
        zone=zone,
        entries_per_language=lambda: entries_per_language(knowledge.current.load.topics),
        coordinators={
            Channel.TELEGRAM: {str(user_id) for user_id in settings.telegram.coordinator_ids}
        },
    )
    translator = Translator.load(locale_dir)
    gap = timedelta(minutes=settings.contact_gap_minutes)
    office = OfficeHours(zone, parse_weekly_hours(settings.office_hours))
    person_screens = HandoffScreens(translator, zone)
    tickets = SqlTicketStore(db, gap, zone, settings.var_dir / "staff-answers.jsonl")
    boards = StaffBoards(tickets)
    people = PersonRouter()
    staff = StaffDesk(
        store=tickets,
        outbox=people,
        events=boards,
        person_screens=person_screens,
        screens=StaffScreens(translator, settings.staff_language, zone),
        office=office,
        reminders=ReminderPolicy(
            waiting=60 * settings.reminder_minutes,
            urgent_every=60 * settings.priority_reminder_minutes,
        ),
    )
    engine = DialogueEngine(
        store=SqlConversationStore(db, gap, zone),
        knowledge=knowledge,
        languages=knowledge,
        translator=translator,
        pseudonymise=HmacPseudonymiser(key),
        default_language=settings.default_language,
        handoff=HandOff(person_screens, knowledge, office, settings.staff_answer_minutes),
        retention_days=settings.retention_days,
        reports=reports,
        ticket_events=boards,
        flood_per_minute=settings.flood_messages_per_minute,
    )
    return Core(engine, db, knowledge, reports, tickets, staff, boards, people)


async def _start_jobs(
    settings: Settings,
    core: Core,
    stack: AsyncExitStack,
    send_report: ReportSender = None,
) -> None:
    """Start the scheduled jobs, and reload the knowledge base on SIGHUP; staff boards are
    told when a reload refuses broken content.

    With somewhere to send it, the monthly report is delivered on the 1st at 08:00, and at
    start when the bot was down then.
    """
    monthly: Callable[[], Awaitable[object]] | None = None
    if send_report is not None:
        sender = send_report

        async def deliver() -> object:
            return await core.reports.deliver_due(
                datetime.now(UTC), settings.var_dir / "reports", sender
            )

        monthly = deliver
        await deliver()  # catch up after downtime

    async def remind() -> object:
        # A board that failed to show a change (it was down) is brought up to date first.
        await core.boards.catch_up()
        return await core.staff.remind(datetime.now(UTC))

    # Staff answers, closing questions and reopening notices stored but not sent when the bot
    # last stopped go out now.
    await core.staff.retry_pending(datetime.now(UTC))

    async def tell_staff(refused: ReloadOutcome) -> None:
        notice = core.staff.screens.knowledge_refused(refused.topics, refused.problems)
        await core.boards.notify(notice)

    # Both the scheduled reload and SIGHUP's go through LiveKnowledge.reload, which tells
    # staff once for each distinct broken content.
    core.knowledge.on_refused = tell_staff
    scheduler = build_scheduler(
        settings, core.knowledge, core.database, monthly, remind if core.boards.boards else None
    )
    scheduler.start()
    stack.callback(scheduler.shutdown, wait=False)
    loop = asyncio.get_running_loop()
    reloads: set[asyncio.Task[object]] = set()  # strong references until each finishes

    def reload_now() -> None:
        task: asyncio.Task[object] = loop.create_task(core.knowledge.reload(force=True))
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, reload_now)
    stack.callback(loop.remove_signal_handler, signal.SIGHUP)


def console_language_hint(environ: Mapping[str, str]) -> str | None:
    """The terminal user's language (LANG=uk_UA.UTF-8 -> "uk"), like Telegram's language_code.

    Read from the variables themselves: Python maps the neutral C locale to en_US, which would
    pass for a choice of English.
    """
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if value := environ.get(variable):
            return normalise_hint(value.split(".")[0])
    return None


async def run_console(settings: Settings, stdin: TextIO, stdout: TextIO) -> None:
    """A console chat with the bot until the input ends."""
    core = await build_core(settings)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(core.database.dispose)
        await _start_jobs(settings, core, stack)
        chat = ConsoleChat(
            core.engine,
            stdin=stdin,
            stdout=stdout,
            language_hint=console_language_hint(os.environ),
            interactive=stdin.isatty(),
        )
        await chat.run()


async def start_messengers(settings: Settings, core: Core, stack: AsyncExitStack) -> ReportSender:
    """Start every configured messenger, each wired to the staff boards and the people's
    outboxes before it receives anything; stopped in reverse by ``stack``. Returns where the
    monthly report goes (coordinators are on Telegram), or None."""
    send_report: ReportSender = None
    # One ledger for every messenger; its journal is closed after they stop (stack order).
    pending = SqlPendingReplies(core.database, settings.var_dir / "delivered.jsonl")
    await pending.open()
    stack.push_async_callback(pending.close)
    # Staff answers noted as delivered before a crash are settled before any is resent.
    await core.tickets.open_journal()
    stack.push_async_callback(core.tickets.close_journal)
    if settings.telegram.enabled:
        # Imported only when configured: a run without Telegram never loads its SDK.
        from bot.adapters.telegram import TelegramAdapter  # noqa: PLC0415

        telegram = TelegramAdapter(
            settings.telegram,
            core.engine,
            core.staff,
            core.tickets,
            pending,
        )
        core.people.channels[Channel.TELEGRAM] = telegram.people
        if telegram.board is not None:
            core.boards.boards.append(telegram.board)
        await telegram.start()
        stack.push_async_callback(telegram.stop)
        if telegram.board is not None:
            await core.boards.refresh(telegram.board)
        if settings.telegram.coordinator_ids:
            send_report = telegram.send_report
    if settings.matrix.enabled:
        from bot.adapters.matrix import MatrixAdapter  # noqa: PLC0415

        matrix = MatrixAdapter(
            settings.matrix,
            settings.var_dir,
            core.engine,
            SqlCursors(core.database),
            staff=core.staff,
            tickets=core.tickets,
            pending=pending,
        )
        await matrix.connect()
        stack.push_async_callback(matrix.stop)
        if matrix.people is not None:
            core.people.channels[Channel.MATRIX] = matrix.people
        if matrix.board is not None:
            core.boards.boards.append(matrix.board)
        await matrix.start()
        if matrix.board is not None:
            await core.boards.refresh(matrix.board)
    return send_report


async def run(settings: Settings, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    """Run every configured messenger until SIGINT/SIGTERM; the console if none is."""
    if not (settings.telegram.enabled or settings.matrix.enabled):
        log.info("no messenger configured: starting the console chat")
        await run_console(settings, stdin, stdout)
        return
    core = await build_core(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(core.database.dispose)
        send_report = await start_messengers(settings, core, stack)
        await _start_jobs(settings, core, stack, send_report)
        # What start-up built (knowledge, language model, SDKs: some 200,000 objects) lives
        # as long as the process. Left to the collector, each full collection walks it all,
        # 40-50 ms in which no message moves: the soak's p99. Frozen, only what came after is
        # walked. (A reference cycle in a knowledge base that a content change replaced is
        # never freed; content changes are rare, and the reload happens only on a change.)
        gc.freeze()
        log.info("infopoint is running; stop it with Ctrl-C")
        await stop.wait()
        log.info("stopping")

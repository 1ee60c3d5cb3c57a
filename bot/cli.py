"""The command line: ``python -m bot run | chat | ask | kb | report | db upgrade``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot import __version__
from bot.redaction import Redactor, mask_secrets, secret_values
from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger(__name__)

DESCRIPTION = "infopoint: the chatbot of Kraków's Information Point for Foreigners."
EPILOG = "Settings come from INFOPOINT_* environment variables and .env (see .env.example)."
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_HANDLER_NAME = "infopoint"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"infopoint {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run",
        help="run the bot on every configured messenger (a console chat when none is)",
        description="Run the bot on Telegram when INFOPOINT_TELEGRAM__TOKEN is set and on "
        "Matrix when INFOPOINT_MATRIX__HOMESERVER is; with neither, start a console chat. "
        "Migrates the database first.",
        epilog=EPILOG,
    )
    commands.add_parser(
        "chat",
        help="chat with the bot in this terminal (also works with piped input)",
        description="Chat with the bot in the terminal. Type the number of an option to choose "
        "it; /quit or end of input leaves.",
        epilog=EPILOG,
    )
    ask = commands.add_parser(
        "ask",
        help="show what the bot would answer to a question (JSON with --json)",
        description='Answer TEXT (or every line of a --batch JSON Lines file with a "text" '
        "field) as for a new person, without touching the database. Output: topic, language, "
        "score and alternatives.",
        epilog=EPILOG,
    )
    ask.add_argument("text", nargs="?", help="the question")
    ask.add_argument("--json", action="store_true", help="one JSON object per line")
    ask.add_argument("--batch", type=Path, metavar="FILE", help="JSON Lines file of questions")
    kb = commands.add_parser(
        "kb", help="knowledge base: check and statistics", description="Knowledge base tools."
    )
    kb_commands = kb.add_subparsers(dest="kb_command", required=True, metavar="KB_COMMAND")
    kb_commands.add_parser(
        "check",
        help="validate every knowledge file; non-zero exit on errors",
        description="Validate the schema, the four languages, unique ids, the catalogue, URLs "
        "and answer lengths; warn about facts checked over 12 months ago.",
        epilog=EPILOG,
    )
    kb_commands.add_parser(
        "stats",
        help="entries available in each language",
        description="Count the knowledge entries available in each language.",
        epilog=EPILOG,
    )
    report = commands.add_parser(
        "report",
        help="the coordinator's report: beneficiaries against 4,000 a year, and more",
        description="Count beneficiaries, contacts and the programme's indicators for a month, "
        "a year or a range of months (Europe/Warsaw time). See the README, 'How we count'.",
        epilog=EPILOG,
    )
    period = report.add_mutually_exclusive_group(required=True)
    period.add_argument("--month", metavar="YYYY-MM", help="one month")
    period.add_argument("--year", type=int, metavar="YYYY", help="a calendar year, by month")
    period.add_argument("--from", dest="first", metavar="YYYY-MM", help="first month of a range")
    report.add_argument("--to", dest="last", metavar="YYYY-MM", help="last month of a range")
    report.add_argument(
        "--format", choices=("table", "csv", "xlsx", "json"), default="table", help="default: table"
    )
    report.add_argument("--output", type=Path, metavar="FILE", help="write here (xlsx needs it)")
    report.add_argument("--lang", choices=("pl", "en"), default="pl", help="labels (default: pl)")
    db = commands.add_parser("db", help="database maintenance", description="Database maintenance.")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    upgrade = db_commands.add_parser(
        "upgrade",
        help="migrate the database to the newest schema",
        description="Apply the Alembic migrations to INFOPOINT_DATABASE__URL.",
        epilog=EPILOG,
    )
    upgrade.add_argument("--revision", default="head", help="target revision (default: head)")
    return parser


LIBRARIES_LOGGING_TEXTS = ("telegram", "nio", "aiosqlite", "psycopg")
"""Loggers kept at INFO or above whatever the log level: at DEBUG, python-telegram-bot and
matrix-nio log each update and request whole, and aiosqlite each statement with its
parameters (the replies stored with an event, a ticket's transcript)."""


def configure_logging(
    settings: Settings, *, quiet: bool, stream: TextIO | None = None
) -> logging.Handler:
    """Log to stderr (or ``stream``) with every secret masked; a console chat shows only
    warnings, so the chat stays readable. Calling it again replaces the earlier set-up."""
    root = logging.getLogger()
    for earlier in [each for each in root.handlers if each.get_name() == _HANDLER_NAME]:
        root.removeHandler(earlier)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(logging.WARNING if quiet else settings.log_level)
    # On every root handler, not only ours: a record reaches them all, from any library.
    mask_secrets(root.handlers, Redactor(secret_values(settings)))
    # httpx logs each request URL at INFO, and a Bot API URL contains the bot's token (masked
    # above as well; this keeps the log short).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # These log people's words at DEBUG, and the answers that would tell what they asked.
    # Our own DEBUG lines hold no texts, so DEBUG stops at them. (SQLAlchemy keeps its own
    # loggers at WARNING unless told otherwise.)
    for library in LIBRARIES_LOGGING_TEXTS:
        logging.getLogger(library).setLevel(max(logging.INFO, root.level))
    return handler


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"infopoint: {error}", file=sys.stderr)
        return 2
    messenger = settings.telegram.enabled or settings.matrix.enabled
    # `db` and `run` with a messenger log at the configured level; the others print results
    # or hold a chat, which only warnings may interrupt.
    loud = args.command == "db" or (args.command == "run" and messenger)
    configure_logging(settings, quiet=not loud)
    try:
        return _dispatch(args, settings)
    except Exception:
        # Logged rather than left to Python, whose traceback would show a secret unmasked
        # (a malformed database URL is quoted whole in SQLAlchemy's error, for one).
        log.critical("infopoint stopped by an unexpected error", exc_info=True)
        return 1


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    """Run the chosen command."""
    # Imported after the settings are known good, so --help and a bad setting answer fast.
    from bot import app, event_loop  # noqa: PLC0415
    from bot.storage import database  # noqa: PLC0415

    if args.command == "ask":
        return _ask(args, settings)
    if args.command == "kb":
        return _kb(args, settings)
    if args.command == "report":
        from bot.reports.command import run_report_command  # noqa: PLC0415

        return asyncio.run(run_report_command(args, settings))
    if args.command == "db":
        database.upgrade(settings.database.url, args.revision)
        print(f"database at revision {args.revision}")
        return 0
    try:
        if args.command == "chat":
            event_loop.run(app.run_console(settings, sys.stdin, sys.stdout), settings.event_loop)
        else:
            event_loop.run(app.run(settings), settings.event_loop)
    except KeyboardInterrupt:
        pass
    return 0


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ask import batch_texts, run_ask  # noqa: PLC0415 - keeps --help fast
    from bot.knowledge.service import load_knowledge  # noqa: PLC0415
    from bot.resources import resource_dir  # noqa: PLC0415

    if (args.text is None) == (args.batch is None):
        print("infopoint: ask takes either TEXT or --batch FILE", file=sys.stderr)
        return 2
    knowledge = load_knowledge(
        settings.knowledge_dir or resource_dir("knowledge"), resource_dir("locales")
    )
    texts = batch_texts(args.batch) if args.batch else [args.text]
    run_ask(
        knowledge,
        texts,
        as_json=args.json,
        default_language=settings.default_language,
        out=sys.stdout,
    )
    return 0


def _kb(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import date  # noqa: PLC0415

    from bot.knowledge.check import check, stats_lines  # noqa: PLC0415
    from bot.knowledge.loader import load_directory  # noqa: PLC0415
    from bot.resources import resource_dir  # noqa: PLC0415

    directory = settings.knowledge_dir or resource_dir("knowledge")
    if args.kb_command == "stats":
        print("\n".join(stats_lines(load_directory(directory))))
        return 0
    result = check(directory, date.today())
    for problem in result.errors:
        print(f"error: {problem}")
    for problem in result.warnings:
        print(f"warning: {problem}")
    print(f"{len(result.errors)} errors, {len(result.warnings)} warnings")
    return 1 if result.errors else 0

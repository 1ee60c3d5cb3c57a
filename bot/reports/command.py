"""``python -m bot report``: the coordinator's report on the command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.knowledge.check import entries_per_language
from bot.knowledge.loader import load_directory
from bot.reports.periods import PeriodError
from bot.reports.queries import build_report
from bot.reports.service import choose_months, render
from bot.resources import resource_dir
from bot.settings import Settings
from bot.storage import database


async def run_report_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print or write the report; a bad period is one line and exit code 2."""
    try:
        months = choose_months(month=args.month, year=args.year, first=args.first, last=args.last)
    except PeriodError as error:
        print(f"infopoint: {error}", file=sys.stderr)
        return 2
    if args.format == "xlsx" and args.output is None:
        print("infopoint: --format xlsx needs --output FILE", file=sys.stderr)
        return 2
    await asyncio.to_thread(database.upgrade, settings.database.url)
    engine = database.create_engine(settings.database.url)
    try:
        topics = load_directory(settings.knowledge_dir or resource_dir("knowledge")).topics
        report = await build_report(
            engine,
            months,
            zone=ZoneInfo(settings.timezone),
            now=datetime.now(UTC),
            entries_per_language=entries_per_language(topics),
        )
    finally:
        await engine.dispose()
    content = render(report, args.format, args.lang)
    if args.output is None:
        sys.stdout.write(content.decode())
    else:
        args.output.write_bytes(content)
        print(f"report written to {args.output}", file=sys.stderr)
    return 0

"""Reports reach the coordinator: /report in chat, and every month on schedule, once."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.adapters.telegram import TelegramAdapter
from bot.app import Core, build_core
from bot.core.messages import Channel, Inbound, Reply
from bot.core.ports import ReportFile
from bot.reports.periods import Month
from tests.fakes.telegram_api import FakeBotApi
from tests.test_reports import helped, utc
from tests.test_telegram import telegram_settings

WARSAW = ZoneInfo("Europe/Warsaw")
COORDINATOR = {"id": 777, "is_bot": False, "first_name": "Kasia", "language_code": "pl"}


@pytest.fixture
async def core(tmp_path: Path, api: FakeBotApi) -> AsyncIterator[Core]:
    built = await build_core(telegram_settings(tmp_path, api, coordinator_ids="777, 778"))
    yield built
    await built.database.dispose()


async def command(core: Core, user: str, text: str, at: datetime) -> list[Reply]:
    return await core.engine.handle(
        Inbound(Channel.TELEGRAM, user, uuid.uuid4().hex, at, text=text, language_hint="pl")
    )


async def test_a_coordinator_gets_the_workbook_and_a_summary(core: Core) -> None:
    await helped(core, "olena", utc("2026-10-05T10:00:00"))
    [reply] = await command(core, "777", "/report 2026-10", utc("2026-11-02T09:00:00"))
    assert reply.text.splitlines()[:2] == [
        "Punkt Informacyjny dla Obcokrajowców – raport asystenta – 2026-10",
        "Beneficjenci: 1 (Nowi beneficjenci: 1); Kontakty: 1",
    ]
    assert reply.attachment is not None
    assert reply.attachment.filename == "infopoint-2026-10.xlsx"
    workbook = load_workbook(io.BytesIO(reply.attachment.content))
    assert workbook["Miesiące"]["A5"].value == "2026-10"


async def test_without_a_month_it_is_last_month(core: Core) -> None:
    [reply] = await command(core, "778", "/report", utc("2026-11-02T09:00:00"))
    assert reply.attachment is not None
    assert reply.attachment.filename == "infopoint-2026-10.xlsx"


async def test_a_bad_month_is_explained(core: Core) -> None:
    [reply] = await command(core, "777", "/report październik", utc("2026-11-02T09:00:00"))
    assert reply.text == (
        "Nie udało się przygotować raportu: 'październik' is not a month written as YYYY-MM. "
        "Napisz /report RRRR-MM."
    )


async def test_anyone_else_is_refused_and_logged(
    core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        replies = await command(core, "31337", "/report 2026-10", utc("2026-11-02T09:00:00"))
    assert [(reply.text, reply.attachment) for reply in replies] == [
        ("Przepraszam, raporty są tylko dla koordynatora programu.", None)
    ]
    assert "refused /report from a non-coordinator" in caplog.text
    assert "31337" not in caplog.text  # the log names the pseudonym, not the platform id


async def test_the_monthly_report_catches_up_once_after_downtime(
    core: Core, tmp_path: Path
) -> None:
    sent: list[ReportFile] = []

    async def send(report: ReportFile) -> None:
        sent.append(report)

    reports = tmp_path / "reports"
    desk = core.reports

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=WARSAW)

    # Down on 1 November at 08:00; started on the 3rd: October's report goes out then.
    assert await desk.deliver_due(at("2026-11-03T10:00:00"), reports, send) == Month(2026, 10)
    assert await desk.deliver_due(at("2026-11-03T10:05:00"), reports, send) is None
    assert await desk.deliver_due(at("2026-12-01T07:59:00"), reports, send) is None
    assert await desk.deliver_due(at("2026-12-01T08:00:00"), reports, send) == Month(2026, 11)
    assert [report.filename for report in sent] == [
        "infopoint-2026-10.xlsx",
        "infopoint-2026-11.xlsx",
    ]
    assert sorted(path.name for path in reports.iterdir()) == [
        "infopoint-2026-10.xlsx",
        "infopoint-2026-11.xlsx",
    ]


async def test_on_telegram_the_report_arrives_as_a_document(
    api: FakeBotApi, core: Core, tmp_path: Path
) -> None:
    settings = telegram_settings(tmp_path, api, coordinator_ids="777")
    adapter = TelegramAdapter(settings.telegram, core.engine)
    await adapter.start()
    try:
        await api.send_text(COORDINATOR, "/report 2026-10")
        [document] = await api.wait_for("sendDocument", 1)
        assert document["chat_id"] == COORDINATOR["id"]
        assert document["caption"].startswith("Punkt Informacyjny dla Obcokrajowców")
        assert document["document"][:2] == b"PK"  # an XLSX is a zip archive

        await adapter.send_report(ReportFile("Raport", "infopoint-2026-10.xlsx", b"PK..."))
        sent = await api.wait_for("sendDocument", 2)
        assert [message["chat_id"] for message in sent] == [777, 777]
    finally:
        await adapter.stop()

"""The coordinator's counts follow the rules in the README, "How we count".

Every scenario is played through the real dialogue engine with fixed clocks: a person asks
a question the bot answers (helped), or only greets (reached, not helped).
"""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.app import Core, build_core
from bot.core.messages import Channel, Inbound
from bot.core.ports import ContactNote
from bot.reports.figures import Report
from bot.reports.formats import as_json
from bot.reports.periods import Month, year_months
from bot.reports.queries import build_report
from bot.reports.service import render
from bot.storage.contacts import month_of, shard_of
from bot.storage.conversations import SqlConversationStore
from bot.storage.models import Contact, MonthTotal, TopicMonth
from tests.conftest import FIXTURE_KNOWLEDGE, make_settings
from tests.test_cli import run_bot

WARSAW = ZoneInfo("Europe/Warsaw")
ENTRIES = {"pl": 3, "en": 3, "uk": 3, "ru": 3}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def say(
    core: Core, person: str, text: str, at: datetime, channel: Channel = Channel.TELEGRAM
) -> None:
    await core.engine.handle(
        Inbound(
            channel=channel,
            user_id=person,
            event_id=uuid.uuid4().hex,
            received_at=at,
            text=text,
        )
    )


async def helped(core: Core, person: str, at: datetime, **kwargs: Channel) -> None:
    """A question the bot answers from the knowledge base."""
    await say(core, person, "Jak dostać PESEL w Krakowie?", at, **kwargs)


async def greeted(core: Core, person: str, at: datetime) -> None:
    await say(core, person, "dzień dobry", at)


async def report_for(core: Core, months: list[Month], now: str = "2026-12-31T12:00:00") -> Report:
    return await build_report(
        core.database, months, zone=WARSAW, now=utc(now), entries_per_language=ENTRIES
    )


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    built = await build_core(make_settings(tmp_path))
    yield built
    await built.database.dispose()


async def test_a_person_helped_in_january_and_march_counts_in_both_and_once_a_year(
    core: Core,
) -> None:
    await helped(core, "olena", utc("2026-01-10T09:00:00"))
    await helped(core, "olena", utc("2026-03-05T09:00:00"))
    await helped(core, "ivan", utc("2026-03-06T09:00:00"))

    report = await report_for(core, year_months(2026))

    by_month = {str(m.month): m for m in report.months}
    assert [by_month["2026-01"].beneficiaries, by_month["2026-03"].beneficiaries] == [1, 2]
    assert [by_month["2026-01"].new_beneficiaries, by_month["2026-03"].new_beneficiaries] == [
        1,
        1,
    ]
    assert by_month["2026-02"].beneficiaries == 0
    assert report.year_to_date.beneficiaries == 2


async def test_greeting_only_people_are_reached_not_helped(core: Core) -> None:
    await greeted(core, "maria", utc("2026-05-02T10:00:00"))
    await helped(core, "olena", utc("2026-05-02T11:00:00"))

    [may] = (await report_for(core, [Month(2026, 5)])).months

    assert (may.beneficiaries, may.reached_not_helped, may.contacts) == (1, 1, 2)
    assert (may.answered, may.handed_off, may.unanswered) == (1, 0, 1)
    assert may.top_topics == [("docs.pesel", 1)]
    assert may.by_language == {"pl": 1}
    assert may.by_channel == {"telegram": 1}


async def test_messages_under_thirty_minutes_apart_are_one_contact(core: Core) -> None:
    start = utc("2026-06-01T08:00:00")
    await greeted(core, "olena", start)
    await helped(core, "olena", start + timedelta(minutes=29))  # same contact, now helped
    await helped(core, "olena", start + timedelta(minutes=29 + 31))  # a new contact

    [june] = (await report_for(core, [Month(2026, 6)])).months

    assert (june.contacts, june.beneficiaries, june.reached_not_helped) == (2, 1, 0)


@pytest.mark.parametrize(
    ("moment", "month"),
    [
        ("2025-12-31T23:30:00", "2026-01"),  # 00:30 on 1 January in Kraków (CET, UTC+1)
        ("2026-03-31T21:30:00", "2026-03"),  # 23:30 CEST on 31 March (after the spring change)
        ("2026-03-31T22:30:00", "2026-04"),  # 00:30 CEST on 1 April
        ("2026-10-31T22:30:00", "2026-10"),  # 23:30 CET on 31 October (after the autumn change)
        ("2026-10-31T23:30:00", "2026-11"),  # 00:30 CET on 1 November
    ],
)
async def test_months_are_cut_in_warsaw_time_across_dst(
    core: Core, moment: str, month: str
) -> None:
    await helped(core, "olena", utc(moment))
    report = await report_for(
        core, [Month(2025, 12), *year_months(2026)], now="2026-12-31T12:00:00"
    )
    counted = [str(m.month) for m in report.months if m.beneficiaries]
    assert counted == [month]


async def test_year_to_date_projects_the_pace_and_the_monthly_need(core: Core) -> None:
    for number in range(30):
        await helped(core, f"person-{number}", utc("2026-01-15T10:00:00"))
    report = await report_for(core, [Month(2026, 3)], now="2026-03-31T20:00:00")
    ytd = report.year_to_date
    # 30 people in the 90 days to 31 March: 30 × 365 / 90 ≈ 122 by December.
    assert (ytd.beneficiaries, ytd.as_of.isoformat(), ytd.projection) == (30, "2026-03-31", 122)
    assert ytd.needed_per_month == -(-(4000 - 30) // 9)
    assert not ytd.on_track


async def test_ratings_are_counted_once_per_answer(core: Core) -> None:
    at = utc("2026-07-01T10:00:00")
    await helped(core, "olena", at)
    for _ in range(3):
        await core.engine.handle(
            Inbound(Channel.TELEGRAM, "olena", uuid.uuid4().hex, at, choice="rate:up:docs.pesel")
        )
    await helped(core, "ivan", at)
    await core.engine.handle(
        Inbound(Channel.TELEGRAM, "ivan", uuid.uuid4().hex, at, choice="rate:down:docs.pesel")
    )
    indicators = (await report_for(core, [Month(2026, 7)])).indicators
    assert (indicators.assessments_positive, indicators.assessments_negative) == (1, 1)


async def test_a_contact_open_at_midnight_on_new_years_eve_is_cut_at_the_new_year(
    core: Core,
) -> None:
    await helped(core, "olena", utc("2025-12-31T22:50:00"))  # 23:50 in Kraków
    await helped(core, "olena", utc("2025-12-31T23:10:00"))  # 00:10: a new year, a new contact

    report = await report_for(core, [Month(2025, 12), Month(2026, 1)], now="2026-01-02T10:00:00")

    assert [(m.contacts, m.beneficiaries, m.new_beneficiaries) for m in report.months] == [
        (1, 1, 1),
        (1, 1, 1),
    ]


async def test_the_month_totals_agree_with_distinct_counts_over_the_contacts(
    core: Core,
) -> None:
    """What the reports read agrees with the raw contacts, counted here the slow way."""
    await scenario(core)
    await greeted(core, "p1-1", utc("2026-02-27T09:00:00"))
    await helped(core, "p1-1", utc("2026-02-27T09:20:00"))  # helped later in the contact
    await say(core, "p1-1", "jak się zameldować w Krakowie", utc("2026-02-27T09:25:00"))
    async with core.database.connect() as connection:
        contacts = (
            await connection.execute(select(Contact).order_by(Contact.started_at, Contact.id))
        ).all()
        stored: Counter[tuple[str, ...]] = Counter()
        for row in (await connection.execute(select(MonthTotal))).all():
            for name in ("contacts", "answered", "handed_off", "reached", "beneficiaries"):
                stored[(row.month, name)] += getattr(row, name)
            stored[(row.month, "new")] += row.new_beneficiaries
            stored[(row.month, "language", row.language)] += row.beneficiaries
            stored[(row.month, "channel", row.channel)] += row.beneficiaries
        stored_topics: Counter[tuple[str, str]] = Counter()
        for row in (await connection.execute(select(TopicMonth))).all():
            stored_topics[(row.month, row.topic_id)] += row.contacts  # over the shards
    expected: Counter[tuple[str, ...]] = Counter()
    topics: Counter[tuple[str, str]] = Counter()
    reached, helped_in_month, helped_in_year = set(), set(), set()
    for contact in contacts:
        month, key = month_of(contact.started_at, WARSAW), contact.person_key
        expected[(month, "contacts")] += 1
        expected[(month, "answered")] += contact.answered and not contact.handed_off
        expected[(month, "handed_off")] += contact.handed_off
        if (month, key) not in reached:
            reached.add((month, key))
            expected[(month, "reached")] += 1
        if contact.helped and (month, key) not in helped_in_month:
            helped_in_month.add((month, key))
            expected[(month, "beneficiaries")] += 1
            expected[(month, "language", contact.language)] += 1
            expected[(month, "channel", contact.channel)] += 1
            if (month[:4], key) not in helped_in_year:
                helped_in_year.add((month[:4], key))
                expected[(month, "new")] += 1
        topics.update((month, topic) for topic in contact.topics)
    assert +stored == +expected
    assert topics == stored_topics
    assert ("2026-02", "docs.address-registration") in stored_topics


async def scenario(core: Core) -> str:
    """A year of mixed activity; the JSON report without its generation time."""
    for day in range(1, 28, 3):
        for person in range(day % 5 + 1):
            moment = utc(f"2026-{day % 12 + 1:02d}-{day:02d}T{person + 8:02d}:00:00")
            channel = Channel.TELEGRAM if person % 2 else Channel.MATRIX
            if person % 3:
                await helped(core, f"p{person}-{day % 4}", moment, channel=channel)
            else:
                await greeted(core, f"p{person}-{day % 4}", moment)
    report = await report_for(core, year_months(2026))
    document = json.loads(as_json(report))
    del document["generated_at"]
    return json.dumps(document, sort_keys=True)


async def test_sqlite_and_postgresql_give_identical_numbers(
    tmp_path: Path, postgres_url: str
) -> None:
    results = []
    for url in (f"sqlite:///{tmp_path / 'same.db'}", postgres_url):
        core = await build_core(make_settings(tmp_path, database={"url": url}))
        try:
            results.append(await scenario(core))
        finally:
            await core.database.dispose()
    assert results[0] == results[1]
    assert json.loads(results[0])["year_to_date"]["beneficiaries"] > 0


async def test_the_xlsx_is_what_a_city_office_expects(core: Core) -> None:
    await helped(core, "olena", utc("2026-02-10T09:00:00"))
    await greeted(core, "maria", utc("2026-02-11T09:00:00"))
    content = render(await report_for(core, year_months(2026)), "xlsx", "pl")
    workbook = load_workbook(filename=io.BytesIO(content))
    assert workbook.sheetnames == [
        "Podsumowanie",
        "Miesiące",
        "Beneficjenci wg języka",
        "Beneficjenci wg kanału",
        "Najczęstsze tematy",
    ]
    summary = workbook["Podsumowanie"]
    assert summary["A1"].value.startswith("Punkt Informacyjny dla Obcokrajowców")
    assert [summary.cell(row=4, column=c).value for c in range(1, 5)] == [
        "Wskaźnik",
        "Cel",
        "Wartość",
        "Status",
    ]
    assert [summary["A5"].value, summary["B5"].value, summary["C5"].value] == [
        "Beneficjenci od początku roku 2026",
        4000,
        1,
    ]
    months = workbook["Miesiące"]
    assert months.freeze_panes == "A5"
    assert [months["A6"].value, months["B6"].value, months["E6"].value] == ["2026-02", 1, 2]
    [chart] = months._charts
    assert len(chart.series) == 1 and len(chart._charts) == 2
    assert months.column_dimensions["B"].width >= len("Beneficjenci")


def test_the_report_command(tmp_path: Path) -> None:
    env = {"INFOPOINT_DATABASE__URL": f"sqlite:///{tmp_path / 'r.db'}"}
    table = run_bot("report", "--month", "2026-10", "--lang", "en", env=env, cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[:2] == [
        "Information Point for Foreigners – assistant report",
        "Period: 2026-10 – 2026-10",
    ]
    document = run_bot("report", "--year", "2026", "--format", "json", env=env, cwd=tmp_path)
    months = json.loads(document.stdout)["months"]
    assert [m["month"] for m in months] == [f"2026-{n:02d}" for n in range(1, 13)]
    assert set(months[0]) >= {"beneficiaries", "new_beneficiaries", "by_language", "top_topics"}
    written = run_bot(
        "report", "--from", "2026-01", "--to", "2026-06", "--format", "xlsx",
        "--output", str(tmp_path / "r.xlsx"), env=env, cwd=tmp_path,
    )  # fmt: skip
    assert written.returncode == 0 and (tmp_path / "r.xlsx").stat().st_size > 5000
    bad = run_bot("report", "--month", "2026-13", env=env, cwd=tmp_path)
    assert (bad.returncode, bad.stderr) == (
        2,
        "infopoint: '2026-13' is not a month written as YYYY-MM\n",
    )


async def test_each_new_knowledge_content_is_one_welcome_package_update(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(FIXTURE_KNOWLEDGE, knowledge)
    core = await build_core(make_settings(tmp_path, knowledge_dir=knowledge))
    try:
        await core.knowledge.reload(force=True)  # same content: not an update
        pesel = knowledge / "docs.pesel.yaml"
        pesel.write_text(pesel.read_text().replace("PESEL number", "Your PESEL number"))
        await core.knowledge.reload()
        report = await report_for(core, [Month.of(datetime.now(UTC).date())])
        assert report.indicators.welcome_package_updates == 1
    finally:
        await core.database.dispose()


@pytest.mark.postgres
async def test_on_postgresql_two_peoples_answers_do_not_wait_for_each_others_commit(
    tmp_path: Path, postgres_url: str
) -> None:
    """Two people answered on the same topic, in the same month, channel and language: each
    message's transaction holds what it added to the totals until it commits (which waits
    for the disk), and one slow commit must not hold up another person's message."""
    core = await build_core(make_settings(tmp_path, database={"url": postgres_url}))
    store = SqlConversationStore(core.database)
    first = "a" * 64
    second = next(
        key for key in (f"{n:064x}" for n in range(100)) if shard_of(key) != shard_of(first)
    )
    answered = ContactNote("uk", answered_topics=("docs.pesel",))
    now = utc("2026-11-02T10:00:00")

    async def answer(key: str) -> None:
        async with store.begin() as unit:
            await unit.load_person(key, "telegram", now)
            await unit.record_contact(key, "telegram", answered, now)

    try:
        async with store.begin() as slow:
            await slow.load_person(first, "telegram", now)
            await slow.record_contact(first, "telegram", answered, now)
            quick = asyncio.create_task(answer(second))
            done, _ = await asyncio.wait({quick}, timeout=10)
            assert done, "the second person's message waited for the first one's commit"
        report = await report_for(core, [Month(2026, 11)], now="2026-11-02T12:00:00")
        [month] = report.months
        assert (month.beneficiaries, month.top_topics) == (2, [("docs.pesel", 2)])
    finally:
        await core.database.dispose()

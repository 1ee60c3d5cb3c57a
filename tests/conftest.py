"""Shared fixtures: compiled catalogues, isolated settings, the engine, PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.console import render_plain
from bot.app import Core, build_core
from bot.core.messages import Channel, Inbound, Reply
from bot.settings import Settings
from bot.storage.database import create_engine, upgrade
from tests.fakes.tcp_proxy import CuttableProxy
from tests.fakes.telegram_api import FakeBotApi

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_KNOWLEDGE = ROOT / "tests" / "data" / "knowledge"
POSTGRES_URL = os.environ.get(
    "INFOPOINT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEST_KEY = "11" * 32


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogues() -> None:
    """Compile locales/*.po to .mo beside them, as `make i18n-compile` does."""
    for po_path in (ROOT / "locales").glob("*/LC_MESSAGES/*.po"):
        with po_path.open("rb") as po_file:
            catalogue = read_po(po_file)
        with po_path.with_suffix(".mo").open("wb") as mo_file:
            write_mo(mo_file, catalogue)


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer's INFOPOINT_* variables or .env leak into a test."""
    for name in list(os.environ):
        if name.startswith("INFOPOINT_") and name != "INFOPOINT_REQUIRE_POSTGRES":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database": {"url": f"sqlite:///{tmp_path / 'bot.db'}"},
        "var_dir": tmp_path,
        "knowledge_dir": FIXTURE_KNOWLEDGE,
        "pseudonym_key": TEST_KEY,
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
async def core(settings: Settings) -> AsyncIterator[Core]:
    built = await build_core(settings)
    yield built
    await built.database.dispose()


class Chat:
    """A person talking to the engine: each call is one event, replies rendered as text."""

    _clock = itertools.count()

    def __init__(
        self,
        core: Core,
        user_id: str = "1001",
        language_hint: str | None = None,
        channel: Channel = Channel.TELEGRAM,
    ) -> None:
        self.core = core
        self.user_id = user_id
        self.language_hint = language_hint
        self.channel = channel
        self.last: list[Reply] = []

    def _inbound(self, **fields: str) -> Inbound:
        tick = next(self._clock)
        return Inbound(
            channel=self.channel,
            user_id=self.user_id,
            event_id=uuid.uuid4().hex,
            received_at=datetime(2026, 11, 2, 10, tzinfo=UTC) + timedelta(seconds=tick),
            language_hint=self.language_hint,
            **fields,  # type: ignore[arg-type]
        )

    async def say(self, text: str) -> str:
        self.last = await self.core.engine.handle(self._inbound(text=text))
        return self.transcript()

    async def press(self, option_id: str) -> str:
        self.last = await self.core.engine.handle(self._inbound(choice=option_id))
        return self.transcript()

    def transcript(self) -> str:
        return "\n---\n".join(render_plain(reply) for reply in self.last)

    def option_ids(self) -> list[str]:
        return [option.id for reply in self.last for option in reply.options]


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """The fake Telegram Bot API on a free 127.0.0.1 port."""
    fake = FakeBotApi()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def chat(core: Core) -> Chat:
    return Chat(core)


async def start_bot_process(
    env: dict[str, str], cwd: Path, *, stdin: int
) -> asyncio.subprocess.Process:
    """`python -m bot run` as a child process, its stdout and stderr piped to the test."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=cwd,
        env=env,
        stdin=stdin,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def _postgres_reachable() -> str | None:
    """None when the server answers; otherwise why not."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), connect_timeout=3):
            return None
    except psycopg.OperationalError as error:
        return f"PostgreSQL at {POSTGRES_URL} is unreachable: {str(error).strip().splitlines()[0]}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    problem = _postgres_reachable()
    if problem is not None:
        if os.environ.get("INFOPOINT_REQUIRE_POSTGRES"):
            pytest.fail(f"CI must run the PostgreSQL tests: {problem}")
        pytest.skip(problem)
    import psycopg

    name = f"infopoint_test_{uuid.uuid4().hex[:12]}"
    admin_url = POSTGRES_URL.replace("+psycopg", "")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated database of each kind: on PostgreSQL psycopg runs the hot path's
    statements itself (bot/storage/direct_sql.py), on SQLite SQLAlchemy runs them."""
    url = (
        f"sqlite:///{tmp_path}/either.db"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def proxy() -> AsyncIterator[CuttableProxy]:
    """A cuttable way to the machine's PostgreSQL."""
    proxy = CuttableProxy("127.0.0.1", 5432)
    await proxy.start()
    yield proxy
    await proxy.stop()


@pytest.fixture
async def core_via_proxy(
    tmp_path: Path, postgres_url: str, proxy: CuttableProxy
) -> AsyncIterator[Core]:
    """The bot's core on PostgreSQL, reached through ``proxy``."""
    url = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    core = await build_core(make_settings(tmp_path / "pg", database={"url": url}))
    yield core
    await core.database.dispose()

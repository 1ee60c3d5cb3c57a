"""Secrets stay out of logs, errors and --help: the bot token, the webhook secret, the Matrix
password and access token, the pseudonym key and the database password become ``***``."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from telegram.error import InvalidToken, NetworkError

from bot.adapters.telegram import TelegramAdapter
from bot.app import build_core
from bot.cli import LIBRARIES_LOGGING_TEXTS, configure_logging
from bot.redaction import RedactingFilter, Redactor, mask_url, secret_values
from bot.settings import Settings, SettingsError, load_settings
from tests.conftest import ROOT, make_settings, start_bot_process
from tests.fakes.telegram_api import FakeBotApi
from tests.test_cli import run_bot as run_cli

TOKEN = "123456:SECRET-telegram-token-XYZ"
WEBHOOK_SECRET = "webhook-SECRET-hush"
MATRIX_PASSWORD = "matrix-pass-ASDFG"
MATRIX_TOKEN = "syt_matrix_SECRET_token"
PSEUDONYM_KEY = "5ec7e7" * 10 + "abcd"
DB_PASSWORD = "db-pass-QWERTY"
DB_URL = f"postgresql+psycopg://infopoint:{DB_PASSWORD}@db.example.org:5432/infopoint"
MASKED_DB_URL = "postgresql+psycopg://infopoint:***@db.example.org:5432/infopoint"
CONFIGURED = (TOKEN, WEBHOOK_SECRET, MATRIX_PASSWORD, MATRIX_TOKEN, PSEUDONYM_KEY, DB_PASSWORD)
SECRETS = (*CONFIGURED, TOKEN.split(":")[1])
"""What must never be shown: each secret, and the token's secret half on its own."""
ENVIRONMENT = {
    "INFOPOINT_TELEGRAM__TOKEN": TOKEN,
    "INFOPOINT_TELEGRAM__MODE": "webhook",
    "INFOPOINT_TELEGRAM__WEBHOOK_URL": "https://bot.example.org/telegram",
    "INFOPOINT_TELEGRAM__WEBHOOK_SECRET": WEBHOOK_SECRET,
    "INFOPOINT_MATRIX__HOMESERVER": "https://matrix.example.org",
    "INFOPOINT_MATRIX__USER_ID": "@infopoint:example.org",
    "INFOPOINT_MATRIX__PASSWORD": MATRIX_PASSWORD,
    "INFOPOINT_MATRIX__ACCESS_TOKEN": MATRIX_TOKEN,
    "INFOPOINT_PSEUDONYM_KEY": PSEUDONYM_KEY,
    "INFOPOINT_DATABASE__URL": DB_URL,
}
OLENA = {"id": 31337, "is_bot": False, "first_name": "Olena", "language_code": "uk"}


async def until(api: FakeBotApi, check: Callable[[], object], timeout: float = 15.0) -> None:
    """Wait until the bot's calls satisfy ``check`` (an event-driven wait, not a sleep)."""
    async with api._changed:
        await asyncio.wait_for(api._changed.wait_for(check), timeout)


def leaked(text: str) -> list[str]:
    """The secrets that appear in ``text``."""
    return [secret for secret in SECRETS if secret in text]


def section(name: str) -> dict[str, str]:
    """One section of ENVIRONMENT as settings: {"token": TOKEN, ...}."""
    prefix = f"INFOPOINT_{name.upper()}__"
    return {
        key.removeprefix(prefix).lower(): value
        for key, value in ENVIRONMENT.items()
        if key.startswith(prefix)
    }


def all_secret_settings(tmp_path: Path) -> Settings:
    """Every secret set, logging at DEBUG."""
    return make_settings(
        tmp_path,
        database=section("database"),
        telegram=section("telegram"),
        matrix=section("matrix"),
        pseudonym_key=PSEUDONYM_KEY,
        log_level="DEBUG",
    )


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """Logging as it was before the test configured it the cli's way."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quieted = {
        name: logging.getLogger(name).level
        for name in ("httpx", "apscheduler", *LIBRARIES_LOGGING_TEXTS)
    }
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        for each in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(each)
    root.setLevel(level)
    for name, quiet_level in quieted.items():
        logging.getLogger(name).setLevel(quiet_level)


# --- --help and start-up errors -----------------------------------------------------------


def run_bot(*args: str, cwd: Path, **extra: str) -> str:
    """stdout and stderr of ``python -m bot ARGS`` with every secret in the environment."""
    result = run_cli(*args, env={**ENVIRONMENT, **extra}, cwd=cwd)
    return result.stdout + result.stderr


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["run"],
        ["chat"],
        ["ask"],
        ["kb"],
        ["kb", "check"],
        ["kb", "stats"],
        ["report"],
        ["db"],
        ["db", "upgrade"],
    ],
    ids=lambda command: " ".join(command) or "bot",
)
def test_help_shows_no_secret(tmp_path: Path, command: list[str]) -> None:
    # In .env as well as in the environment: both are read when settings are.
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in ENVIRONMENT.items()))
    output = run_bot(*command, "--help", cwd=tmp_path)
    assert output.startswith("usage: python -m bot")
    assert leaked(output) == []


def test_a_rejected_secret_is_named_not_shown(tmp_path: Path) -> None:
    bad = "bad webhook SECRET-hush"
    output = run_bot("run", cwd=tmp_path, INFOPOINT_TELEGRAM__WEBHOOK_SECRET=bad)
    assert output == (
        "infopoint: invalid setting INFOPOINT_TELEGRAM__WEBHOOK_SECRET: "
        "use 1-256 characters of A-Z, a-z, 0-9, _ and -\n"
    )


async def test_a_token_telegram_rejects_is_not_printed(tmp_path: Path) -> None:
    """PTB words it "The token `<token>` was rejected"; uncaught, Python printed it whole."""
    api = FakeBotApi(token="654321:the-token-the-server-knows")
    await api.start()
    try:
        env = {
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "INFOPOINT_TELEGRAM__TOKEN": TOKEN,
            "INFOPOINT_TELEGRAM__BASE_URL": api.base_url,
            "INFOPOINT_PSEUDONYM_KEY": PSEUDONYM_KEY,
            "INFOPOINT_KNOWLEDGE_DIR": str(ROOT / "tests" / "data" / "knowledge"),
        }
        process = await start_bot_process(env, tmp_path, stdin=subprocess.DEVNULL)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        await api.stop()
    output = (stdout + stderr).decode()
    assert process.returncode == 1
    assert leaked(output) == []
    assert "telegram.error.InvalidToken: The token `***` was rejected by the server." in output


# --- repr, str and validation errors of the settings --------------------------------------


def test_settings_show_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(env_file=None)
    assert settings.database.url == DB_URL  # the code still gets the real one
    assert leaked(repr(settings) + str(settings)) == []
    assert repr(settings.database) == f"DatabaseSettings(url='{MASKED_DB_URL}')"
    assert str(settings.database) == f"url='{MASKED_DB_URL}'"


def test_a_failed_validation_shows_no_secret(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        make_settings(
            tmp_path,
            database=section("database"),
            pseudonym_key="not hex: " + PSEUDONYM_KEY,
            telegram={**section("telegram"), "webhook_secret": "bad " + WEBHOOK_SECRET},
            # Fails the section's own check, which quotes the whole section: password included.
            matrix={**section("matrix"), "user_id": None},
        )
    assert [error["loc"] for error in caught.value.errors()] == [
        ("telegram", "webhook_secret"),
        ("matrix",),
        ("pseudonym_key",),
    ]
    assert leaked(str(caught.value) + repr(caught.value)) == []


def test_a_settings_error_shows_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("INFOPOINT_PSEUDONYM_KEY", "zz" + PSEUDONYM_KEY)
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    assert str(caught.value) == "invalid setting INFOPOINT_PSEUDONYM_KEY: must be hexadecimal"


# --- the masking itself ---------------------------------------------------------------------


def test_the_settings_secrets_are_all_found(tmp_path: Path) -> None:
    assert set(secret_values(all_secret_settings(tmp_path))) == set(CONFIGURED)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "POST https://api.telegram.org/bot987654:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe",
            "POST https://api.telegram.org/bot***/getMe",
        ),
        (
            "GET https://api.telegram.org/file/bot987654:AAHdq-Tcv_CH1/photos/file_1.jpg",
            "GET https://api.telegram.org/file/bot***/photos/file_1.jpg",
        ),
        ("postgresql://bot:p%40ss@db/infopoint failed", "postgresql://bot:***@db/infopoint failed"),
        (
            "GET /_matrix/client/v3/sync?since=s1&access_token=syt_abc",
            "GET /_matrix/client/v3/sync?since=s1&access_token=***",
        ),
        ("Authorization: Bearer syt_abc.def", "Authorization: Bearer ***"),
        (
            "GET https://matrix.example.org:8448/_matrix/client/v3/profile/@bot:example.org",
            "GET https://matrix.example.org:8448/_matrix/client/v3/profile/@bot:example.org",
        ),
    ],
    ids=["bot-api-url", "bot-api-file-url", "url-password", "query-token", "bearer", "no-secret"],
)
def test_secrets_are_masked_by_their_shape_alone(text: str, expected: str) -> None:
    assert Redactor()(text) == expected


def test_configured_secrets_are_masked_also_short_and_url_encoded() -> None:
    redact = Redactor(["k3y", "p@ss/wörd", "", "  "])
    assert redact("the k3y is k3y") == "the *** is ***"
    assert redact("postgresql://u:p%40ss%2Fw%C3%B6rd@h/db") == "postgresql://u:***@h/db"
    assert redact("nothing blank is masked") == "nothing blank is masked"


def test_a_url_is_shown_without_its_password() -> None:
    assert mask_url(DB_URL) == MASKED_DB_URL
    assert mask_url("postgresql://u:p/ss@h/db") == "postgresql://u:***@h/db"
    assert mask_url("sqlite:///var/infopoint.db") == "sqlite:///var/infopoint.db"


# --- the log, as the cli sets it up ------------------------------------------------------


def _connect(url: str) -> None:
    raise httpx.ConnectError(f"connecting to {url} failed", request=httpx.Request("POST", url))


def _fail_like_ptb(url: str) -> None:
    """A NetworkError as PTB raises it, from an httpx error that names the URL."""
    try:
        _connect(url)
    except httpx.ConnectError as error:
        raise NetworkError(f"httpx.ConnectError: {error}") from error


def _fail_like_sqlalchemy() -> None:
    """An OperationalError whose driver message and parameters hold the database URL."""
    raise OperationalError(
        "SELECT 1", {"url": DB_URL}, Exception(f'connection to "{DB_URL}" failed')
    )


def _emit_every_kind_of_record(log: logging.Logger) -> None:
    url = f"https://api.telegram.org/bot{TOKEN}/getUpdates"
    log.info("token %s, webhook secret %s", TOKEN, WEBHOOK_SECRET)
    log.info('HTTP Request: %s %s "%s"', "POST", httpx.URL(url), "HTTP/1.1 502 Bad Gateway")
    in_the_message = f"connecting to {DB_URL}"
    log.warning(in_the_message)
    log.debug("Matrix %s, %s?access_token=%s", MATRIX_PASSWORD, "/sync", MATRIX_TOKEN)
    log.debug("key %(key)s", {"key": PSEUDONYM_KEY})
    try:
        _fail_like_ptb(url)
    except NetworkError:
        log.exception("Exception happened while polling for updates.")
    try:
        _fail_like_sqlalchemy()
    except OperationalError:
        log.exception("the database is unreachable")
    log.error("failed", exc_info=InvalidToken(f"The token `{TOKEN}` was rejected by the server."))
    log.info("here with %s", TOKEN, stack_info=True)


def test_every_log_record_is_masked(tmp_path: Path, restored_logging: None) -> None:
    output = io.StringIO()
    configure_logging(all_secret_settings(tmp_path), quiet=False, stream=output)
    _emit_every_kind_of_record(logging.getLogger("test.secrets"))
    text = output.getvalue()
    assert leaked(text) == []
    heads = re.findall(r"^\d{4}-\d\d-\d\d [\d:,]+ (\w+ [\w.]+: .*)$", text, re.MULTILINE)
    assert heads == [
        "INFO test.secrets: token ***, webhook secret ***",
        'INFO test.secrets: HTTP Request: POST https://api.telegram.org/bot***/getUpdates "HTTP/1.1 502 Bad Gateway"',
        f"WARNING test.secrets: connecting to {MASKED_DB_URL}",
        "DEBUG test.secrets: Matrix ***, /sync?access_token=***",
        "DEBUG test.secrets: key ***",
        "ERROR test.secrets: Exception happened while polling for updates.",
        "ERROR test.secrets: the database is unreachable",
        "ERROR test.secrets: failed",
        "INFO test.secrets: here with ***",
    ]
    tails = [line for line in text.splitlines() if line.startswith(("telegram.", "sqlalchemy."))]
    assert tails == [
        "telegram.error.NetworkError: httpx.ConnectError: connecting to "
        "https://api.telegram.org/bot***/getUpdates failed",
        f'sqlalchemy.exc.OperationalError: (builtins.Exception) connection to "{MASKED_DB_URL}" failed',
        "telegram.error.InvalidToken: The token `***` was rejected by the server.",
    ]
    assert (
        "httpx.ConnectError: connecting to https://api.telegram.org/bot***/getUpdates failed"
        in text
    )
    assert f"[parameters: {{'url': '{MASKED_DB_URL}'}}]" in text


def test_other_root_handlers_get_masked_records(tmp_path: Path, restored_logging: None) -> None:
    elsewhere = io.StringIO()
    logging.getLogger().addHandler(logging.StreamHandler(elsewhere))
    configure_logging(all_secret_settings(tmp_path), quiet=False, stream=io.StringIO())
    _emit_every_kind_of_record(logging.getLogger("test.secrets"))
    assert leaked(elsewhere.getvalue()) == []


def test_configuring_twice_keeps_one_handler(tmp_path: Path, restored_logging: None) -> None:
    first, second = io.StringIO(), io.StringIO()
    settings = all_secret_settings(tmp_path)
    configure_logging(settings, quiet=False, stream=first)
    configure_logging(settings, quiet=False, stream=second)
    logging.getLogger("test.secrets").warning("once, with %s", TOKEN)
    assert (first.getvalue(), second.getvalue().count("once, with ***")) == ("", 1)


# --- the Telegram adapter, whole ------------------------------------------------------------


@pytest.mark.parametrize("backend", ["aiohttp", "httpx"])
async def test_a_telegram_conversation_and_its_errors_log_no_token(
    tmp_path: Path, restored_logging: None, backend: str
) -> None:
    api = FakeBotApi(token=TOKEN)
    await api.start()
    telegram = {"token": TOKEN, "base_url": api.base_url, "http_backend": backend}
    settings = make_settings(tmp_path, log_level="DEBUG", telegram=telegram)
    log = io.StringIO()
    configure_logging(settings, quiet=False, stream=log)
    # The cli keeps httpx at WARNING and PTB at INFO; let their lines (each URL has the
    # token) through, so that what is tested is the masking, not the quieting.
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    logging.getLogger("telegram").setLevel(logging.DEBUG)
    core = await build_core(settings)
    adapter = TelegramAdapter(settings.telegram, core.engine)
    await adapter.start()
    try:
        await api.send_text(OLENA, "Як отримати PESEL?")
        await until(api, lambda: [m for m in api.sent() if m["text"].startswith("<b>Номер PESEL")])
        answered = len(api.sent())
        # The fake has no knob for a 500 or a dropped connection; a refused call (the 403 of a
        # person who blocked the bot) is the error it can make.
        api.blocked.add(OLENA["id"])
        await api.send_text(OLENA, "Як отримати PESEL?")
        await api.wait_for("sendMessage", answered + 1)
    finally:
        await adapter.stop()  # returns once the update in hand, and what it logs, is done
        await core.database.dispose()
        await api.stop()
    text = log.getvalue()
    assert leaked(text) == []
    assert f"Set Bot API URL: {api.base_url}***" in text  # PTB's own DEBUG line
    if backend == "httpx":  # aiohttp's client logs no requests
        assert f"POST {api.base_url}***/getUpdates" in text
        assert f'POST {api.base_url}***/sendMessage "HTTP/1.1 403 Forbidden"' in text


async def test_at_debug_the_log_holds_no_message_text(
    tmp_path: Path, restored_logging: None
) -> None:
    """People's words, and the answers that would tell what they asked, stay out of the log
    even at DEBUG: python-telegram-bot logs each update and request whole at that level."""
    api = FakeBotApi(token=TOKEN)
    await api.start()
    settings = make_settings(
        tmp_path, log_level="DEBUG", telegram={"token": TOKEN, "base_url": api.base_url}
    )
    log = io.StringIO()
    configure_logging(settings, quiet=False, stream=log)
    core = await build_core(settings)
    adapter = TelegramAdapter(settings.telegram, core.engine)
    await adapter.start()
    try:
        await api.send_text(OLENA, "Мій чоловік забрав мій паспорт")
        await until(api, api.sent)
    finally:
        await adapter.stop()
        await core.database.dispose()
        await api.stop()
    text = log.getvalue()
    assert "DEBUG" in text, "the bot's own DEBUG lines are still written"
    assert "паспорт" not in text
    assert [reply["text"][:40] for reply in api.sent() if reply["text"][:40] in text] == []

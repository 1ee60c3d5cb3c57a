"""The command line as a person uses it: help everywhere, version, clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def run_bot(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=cwd or ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **(env or {})},
        timeout=60,
        check=False,
    )


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
        ["db"],
        ["db", "upgrade"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = run_bot(*command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: python -m bot")


def test_version() -> None:
    from bot import __version__

    result = run_bot("--version")
    assert result.stdout.strip() == f"infopoint {__version__}"


def test_a_bad_setting_stops_start_up_with_one_line(tmp_path: Path) -> None:
    result = run_bot("run", env={"INFOPOINT_TELEGRAM__MODE": "fax"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "infopoint: invalid setting INFOPOINT_TELEGRAM__MODE: "
        "Input should be 'polling' or 'webhook'\n"
    )


def test_help_shows_no_secret(tmp_path: Path) -> None:
    result = run_bot(
        "run", "--help", env={"INFOPOINT_TELEGRAM__TOKEN": "42:hush-hush"}, cwd=tmp_path
    )
    assert "hush-hush" not in result.stdout + result.stderr


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    import sqlite3

    database = tmp_path / "data" / "bot.db"
    result = run_bot(
        "db", "upgrade", env={"INFOPOINT_DATABASE__URL": f"sqlite:///{database}"}, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("select name from sqlite_master")}
    assert {"people", "conversation_states", "processed_events", "alembic_version"} <= tables

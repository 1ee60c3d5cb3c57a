"""The design's rules that code review alone would let slip."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import ROOT

FORBIDDEN_IN_CORE = ("telegram", "nio", "mautrix", "sqlalchemy", "alembic", "apscheduler", "yaml")


def _imported_modules(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_core_imports_no_sdk_and_no_storage() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name
            for name in _imported_modules(str(path.relative_to(ROOT)))
            if name.split(".")[0] in FORBIDDEN_IN_CORE
            or name.startswith(("bot.storage", "bot.adapters", "bot.app"))
        )
        for path in (ROOT / "bot" / "core").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_importing_the_core_loads_no_sdk() -> None:
    """Also catches an SDK pulled in indirectly, through another module."""
    probe = (
        "import sys, bot.core.dialogue, bot.core.screens;"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN_IN_CORE!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]"


def test_nothing_happens_at_import_time() -> None:
    """Importing the composition root builds no settings, engine or client."""
    probe = "import bot.app, bot.cli, bot.adapters.telegram; print('ok')"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
        env={"INFOPOINT_TELEGRAM__MODE": "not-a-mode", "PATH": "/usr/bin"},
    )
    assert result.stdout.strip() == "ok"

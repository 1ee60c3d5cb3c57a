"""The wheel is self-contained: content, catalogues and migrations travel inside it."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    [built] = out.glob("infopoint-*.whl")
    return built


def test_the_wheel_carries_knowledge_catalogues_and_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for language in ("pl", "en", "uk", "ru"):
        assert f"bot/_resources/locales/{language}/LC_MESSAGES/infopoint.mo" in names
    assert "bot/_resources/db/env.py" in names
    assert any(name.startswith("bot/_resources/db/versions/") for name in names)
    shipped = {name for name in names if name.startswith("bot/_resources/knowledge/")}
    expected = {
        f"bot/_resources/knowledge/{path.name}" for path in (ROOT / "knowledge").glob("*.yaml")
    }
    assert expected <= shipped
    assert not any(name.startswith("tests/") for name in names)


@pytest.mark.slow
def test_the_installed_wheel_runs_from_another_directory(wheel: Path, tmp_path: Path) -> None:
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin"), "HOME": str(tmp_path)}

    help_result = subprocess.run(
        [str(python), "-m", "bot", "--help"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert help_result.returncode == 0, help_result.stderr
    assert "run" in help_result.stdout and "chat" in help_result.stdout

    chat = subprocess.run(
        [str(python), "-m", "bot", "chat"],
        cwd=elsewhere,
        env=env,
        input="2\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert chat.returncode == 0, chat.stderr
    assert "I will answer in English." in chat.stdout
    assert "Legal stay" in chat.stdout  # the main menu, from the bundled knowledge base
    assert (elsewhere / "var" / "infopoint.db").is_file()
    assert (elsewhere / "var" / "pseudonym.key").is_file()

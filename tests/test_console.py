"""The console chat, scripted through a pipe as `python -m bot chat` and as `run`."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import FIXTURE_KNOWLEDGE, TEST_KEY
from tests.test_cli import run_bot


def console_env(tmp_path: Path) -> dict[str, str]:
    return {
        "INFOPOINT_DATABASE__URL": f"sqlite:///{tmp_path / 'console.db'}",
        "INFOPOINT_KNOWLEDGE_DIR": str(FIXTURE_KNOWLEDGE),
        "INFOPOINT_PSEUDONYM_KEY": TEST_KEY,
    }


SCRIPT = "3\n1\n2\n/quit\nthis line is never read\n"

EXPECTED = """\
Wybierz język:
Choose your language:
Оберіть мову:
Выберите язык:

  1) Polski
  2) English
  3) Українська
  4) Русский

Я відповідатиму мовою: Українська. Змінити мову можна будь-коли командою /language.

Про вашу приватність: я зберігаю лише вашу мову та етап нашої розмови — під кодом, який не \
розкриває, хто ви. Я не зберігаю ваше ім'я, ім'я користувача чи номер телефону. Докладніше — \
/privacy.

Чого стосується ваше запитання? Оберіть тему або просто напишіть запитання.

  1) Документи та реєстрація
  2) Безпека та права
  3) Поговорити з людиною

Документи та реєстрація: 2 теми. Оберіть одну:

  1) Реєстрація адреси
  2) Номер PESEL
  3) Головне меню

== Номер PESEL ==

PESEL надають під час реєстрації адреси (zameldowanie) або за заявою в Ужонді міста Кракова.

Інформацію перевірено: 29 квітня 2026\u202fр.
Джерело:
  Otwarty Kraków – Nadanie numeru PESEL: \
https://otwarty.krakow.pl/punkt_informacyjny/246758,artykul,nadanie_numeru_pesel.html

  1) 👍
  2) 👎
  3) Поговорити з людиною
  4) Назад до: Документи та реєстрація
  5) Головне меню

"""


def test_a_scripted_chat_through_a_pipe(tmp_path: Path) -> None:
    result = run_bot("chat", env=console_env(tmp_path), cwd=tmp_path, stdin=SCRIPT)
    assert result.returncode == 0, result.stderr
    assert result.stdout == EXPECTED
    assert result.stderr == ""


def test_run_without_a_token_is_the_console_chat_and_remembers_the_person(tmp_path: Path) -> None:
    env = console_env(tmp_path)
    assert run_bot("run", env=env, cwd=tmp_path, stdin="4\n").returncode == 0
    again = run_bot("run", env=env, cwd=tmp_path, stdin="")
    assert again.stdout.startswith("С возвращением!\n")


def test_end_of_input_right_away_is_a_clean_exit(tmp_path: Path) -> None:
    result = run_bot("chat", env=console_env(tmp_path), cwd=tmp_path, stdin="")
    assert result.returncode == 0
    assert result.stdout.startswith("Wybierz język:")


def test_the_default_database_is_created_under_var(tmp_path: Path) -> None:
    env = console_env(tmp_path)
    del env["INFOPOINT_DATABASE__URL"]
    result = run_bot("chat", env=env, cwd=tmp_path, stdin="2\n")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "infopoint.db").is_file()


def test_the_terminal_language_orders_the_picker(tmp_path: Path) -> None:
    env = {**console_env(tmp_path), "LANG": "ru_RU.UTF-8"}
    result = run_bot("chat", env=env, cwd=tmp_path, stdin="")
    assert result.stdout.startswith("Выберите язык:\n")


def test_console_language_hint() -> None:
    from bot.app import console_language_hint

    assert console_language_hint({"LANG": "uk_UA.UTF-8"}) == "uk"
    assert console_language_hint({"LC_ALL": "pl_PL", "LANG": "en_GB.UTF-8"}) == "pl"
    assert console_language_hint({"LANG": "C.UTF-8"}) is None
    assert console_language_hint({"LANG": "de_DE.UTF-8"}) is None
    assert console_language_hint({}) is None

"""Settings: environment and .env, nested sections, and one clear line for a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


def test_defaults_need_nothing(tmp_path: Path) -> None:
    settings = load_settings(env_file=None)
    assert settings.database.url == "sqlite:///var/infopoint.db"
    assert settings.telegram.enabled is False
    assert settings.telegram.mode == "polling"
    assert settings.timezone == "Europe/Warsaw"
    assert settings.default_language == "en"


def test_environment_uses_prefix_and_nested_delimiter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFOPOINT_DATABASE__URL", "postgresql+psycopg://bot@db/infopoint")
    monkeypatch.setenv("INFOPOINT_TELEGRAM__TOKEN", "42:secret")
    monkeypatch.setenv("INFOPOINT_TELEGRAM__BASE_URL", "http://127.0.0.1:9/bot")
    monkeypatch.setenv("INFOPOINT_TELEGRAM__STAFF_CHAT_ID", "-1001")
    monkeypatch.setenv("INFOPOINT_DEFAULT_LANGUAGE", "uk")
    settings = load_settings(env_file=None)
    assert settings.database.url == "postgresql+psycopg://bot@db/infopoint"
    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == "42:secret"
    assert settings.telegram.base_url == "http://127.0.0.1:9/bot"
    assert settings.telegram.staff_chat_id == -1001
    assert settings.default_language == "uk"


def test_dotenv_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("INFOPOINT_TIMEZONE=Europe/Kyiv\nINFOPOINT_DEFAULT_LANGUAGE=ru\n")
    monkeypatch.setenv("INFOPOINT_DEFAULT_LANGUAGE", "pl")
    settings = load_settings(env_file=env_file)
    assert settings.timezone == "Europe/Kyiv"
    assert settings.default_language == "pl"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "INFOPOINT_TELEGRAM__MODE",
            "carrier-pigeon",
            "invalid setting INFOPOINT_TELEGRAM__MODE: Input should be 'polling' or 'webhook'",
        ),
        (
            "INFOPOINT_TIMEZONE",
            "Mars/Olympus",
            "invalid setting INFOPOINT_TIMEZONE: unknown time zone 'Mars/Olympus'",
        ),
        (
            "INFOPOINT_DEFAULT_LANGUAGE",
            "de",
            "invalid setting INFOPOINT_DEFAULT_LANGUAGE: Input should be 'pl', 'en', 'uk' or 'ru'",
        ),
        (
            "INFOPOINT_TELEGRAM__STAFF_CHAT_ID",
            "staff",
            "invalid setting INFOPOINT_TELEGRAM__STAFF_CHAT_ID: Input should be a valid integer, "
            "unable to parse string as an integer",
        ),
        (
            "INFOPOINT_PSEUDONYM_KEY",
            "abc",
            "invalid setting INFOPOINT_PSEUDONYM_KEY: must be hexadecimal",
        ),
    ],
)
def test_a_wrong_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    assert str(caught.value) == message


def test_webhook_mode_names_the_missing_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFOPOINT_TELEGRAM__TOKEN", "42:secret")
    monkeypatch.setenv("INFOPOINT_TELEGRAM__MODE", "webhook")
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    assert str(caught.value) == (
        "invalid setting INFOPOINT_TELEGRAM__WEBHOOK_URL: required when MODE is webhook"
    )
    monkeypatch.setenv("INFOPOINT_TELEGRAM__WEBHOOK_URL", "https://bot.example.org/telegram")
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    assert str(caught.value) == (
        "invalid setting INFOPOINT_TELEGRAM__WEBHOOK_SECRET: required when MODE is webhook"
    )


def test_webhook_secret_format_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFOPOINT_TELEGRAM__WEBHOOK_SECRET", "has spaces!")
    with pytest.raises(SettingsError, match="INFOPOINT_TELEGRAM__WEBHOOK_SECRET: use 1-256"):
        load_settings(env_file=None)


def test_secrets_are_not_shown_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFOPOINT_TELEGRAM__TOKEN", "42:very-secret-token")
    monkeypatch.setenv("INFOPOINT_PSEUDONYM_KEY", "ab" * 16)
    text = repr(load_settings(env_file=None))
    assert "very-secret-token" not in text
    assert "ab" * 16 not in text


def test_env_example_documents_every_setting() -> None:
    from bot.settings import ENV_PREFIX, Settings

    documented = (Path(__file__).parent.parent / ".env.example").read_text()
    names = []
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        nested = getattr(annotation, "model_fields", None)
        if nested:
            names += [f"{ENV_PREFIX}{name.upper()}__{sub.upper()}" for sub in nested]
        else:
            names.append(f"{ENV_PREFIX}{name.upper()}")
    assert [name for name in names if f"# {name}=" not in documented] == []

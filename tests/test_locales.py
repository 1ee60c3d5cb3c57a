"""The catalogues are complete: every UI string translated, placeholders and plurals right."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.core.i18n import LANGUAGES
from tests.conftest import ROOT

PLACEHOLDER = re.compile(r"\{(\w*)\}")
EXPECTED_PLURALS = {"en": 2, "pl": 3, "uk": 3, "ru": 3}


def _catalogue(language: str) -> Catalog:
    with (ROOT / "locales" / language / "LC_MESSAGES" / "infopoint.po").open("rb") as po_file:
        return read_po(po_file)


def _code_msgids() -> set[str]:
    """Every string the code marks for translation, as Babel extracts it."""
    msgids: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(ROOT / "bot"):
        msgids.add(message if isinstance(message, str) else message[0])
    return msgids


def _msgid(message_id: str | tuple[str, ...]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_in_the_code_is_in_the_catalogue(language: str) -> None:
    catalogue_ids = {_msgid(message.id) for message in _catalogue(language) if message.id}
    assert sorted(_code_msgids() - catalogue_ids) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_string_is_untranslated_or_fuzzy(language: str) -> None:
    catalogue = _catalogue(language)
    assert not catalogue.fuzzy
    problems = []
    for message in catalogue:
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(forms):
            problems.append(_msgid(message.id))
    assert problems == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_match_the_msgid(language: str) -> None:
    problems = []
    for message in _catalogue(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(PLACEHOLDER.findall(ids[-1]))
        for form in forms:
            if set(PLACEHOLDER.findall(form)) != expected:
                problems.append((ids[0], form))
    assert problems == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_forms(language: str) -> None:
    catalogue = _catalogue(language)
    assert catalogue.num_plurals == EXPECTED_PLURALS[language]
    for message in catalogue:
        if isinstance(message.id, tuple):
            assert len(message.string) == EXPECTED_PLURALS[language], message.id


@pytest.mark.parametrize(
    ("language", "n", "expected"),
    [
        ("pl", 1, "Legalny pobyt: 1 temat. Wybierz jeden:"),
        ("pl", 3, "Legalny pobyt: 3 tematy. Wybierz jeden:"),
        ("pl", 5, "Legalny pobyt: 5 tematów. Wybierz jeden:"),
        ("pl", 22, "Legalny pobyt: 22 tematy. Wybierz jeden:"),
        ("uk", 1, "Легальне перебування: 1 тема. Оберіть одну:"),
        ("uk", 4, "Легальне перебування: 4 теми. Оберіть одну:"),
        ("uk", 11, "Легальне перебування: 11 тем. Оберіть одну:"),
        ("uk", 21, "Легальне перебування: 21 тема. Оберіть одну:"),
        ("ru", 2, "Легальное пребывание: 2 темы. Выберите одну:"),
        ("ru", 9, "Легальное пребывание: 9 тем. Выберите одну:"),
        ("en", 1, "Legal stay: 1 topic. Choose one:"),
        ("en", 2, "Legal stay: 2 topics. Choose one:"),
    ],
)
def test_compiled_plurals_choose_the_right_form(language: str, n: int, expected: str) -> None:
    from bot.core.i18n import Translator

    t = Translator.load(ROOT / "locales").localizer(language)
    category = t._("Legal stay")
    assert (
        t.ngettext(
            "{category}: {n} topic. Choose one:",
            "{category}: {n} topics. Choose one:",
            n,
            category=category,
        )
        == expected
    )


def test_template_is_in_step_with_the_code() -> None:
    with (ROOT / "locales" / "infopoint.pot").open("rb") as pot_file:
        template = {_msgid(message.id) for message in read_po(pot_file) if message.id}
    assert template == _code_msgids(), "run: make i18n-update"


def test_catalogues_are_committed_as_po_only() -> None:
    tracked = Path(ROOT / ".gitignore").read_text().split()
    assert "*.mo" in tracked

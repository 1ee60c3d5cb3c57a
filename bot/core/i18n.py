"""Gettext catalogues for the four languages, with named placeholders and plural forms.

The catalogue lookup is kept apart from where a person's choice is stored (the engine asks
for a ``Localizer`` per reply), the way aiogram's i18n does it.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from pathlib import Path
from typing import Final

DOMAIN: Final = "infopoint"
LANGUAGES: Final = ("pl", "en", "uk", "ru")
"""Supported languages, in the order the language picker shows them."""
LANGUAGE_NAMES: Final = {"pl": "Polski", "en": "English", "uk": "Українська", "ru": "Русский"}


def N_(msgid: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a string for extraction where it is defined; it is translated where it is shown."""
    return msgid


class CatalogueMissingError(RuntimeError):
    """A language's compiled catalogue is not where the bot looks for it."""


@dataclass(frozen=True, slots=True)
class Localizer:
    """Translates UI strings into one language."""

    language: str
    _catalogue: gettext.NullTranslations

    def _(self, msgid: str, /, **params: object) -> str:
        """Translate ``msgid`` and fill its ``{named}`` placeholders."""
        text = self._catalogue.gettext(msgid)
        return text.format(**params) if params else text

    def ngettext(self, singular: str, plural: str, n: int, /, **params: object) -> str:
        """Translate a countable phrase; ``{n}`` is available as a placeholder."""
        return self._catalogue.ngettext(singular, plural, n).format(n=n, **params)


class Translator:
    """Holds the compiled catalogue of every supported language."""

    def __init__(self, catalogues: dict[str, gettext.NullTranslations]) -> None:
        self._catalogues = catalogues

    @classmethod
    def load(cls, locale_dir: Path) -> Translator:
        """Read ``<locale_dir>/<lang>/LC_MESSAGES/infopoint.mo`` for every language."""
        catalogues: dict[str, gettext.NullTranslations] = {}
        for language in LANGUAGES:
            mo_path = locale_dir / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
            if not mo_path.is_file():
                raise CatalogueMissingError(
                    f"no compiled catalogue for {language!r} at {mo_path} (run: make i18n-compile)"
                )
            with mo_path.open("rb") as mo_file:
                catalogues[language] = gettext.GNUTranslations(mo_file)
        return cls(catalogues)

    def localizer(self, language: str) -> Localizer:
        """The localizer for ``language``; raises KeyError for an unsupported one."""
        return Localizer(language, self._catalogues[language])

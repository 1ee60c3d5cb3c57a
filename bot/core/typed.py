"""Reading what a person typed as a command or as one of the options offered last."""

from __future__ import annotations

from bot.core.text import fold_latin


def command_of(text: str | None) -> str | None:
    """ "/start@infopoint_bot extra words" -> "/start"; None for text that is not a command."""
    stripped = (text or "").strip()
    if not stripped.startswith("/"):
        return None
    return stripped.split(maxsplit=1)[0].split("@", 1)[0].lower()


def typed_choice(offered: list[list[str]], text: str) -> str | None:
    """An option chosen by typing its number, label or value ("2", "English", "en")."""
    if text.isdecimal() and 1 <= int(text) <= len(offered):
        return offered[int(text) - 1][0]
    folded = fold_latin(text)
    if not folded:
        return None
    for option_id, label in offered:
        if folded in (fold_latin(label), option_id.partition(":")[2]):
            return option_id
    return None

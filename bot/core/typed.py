"""Reading what a person typed as a command or as one of the options offered last."""

from __future__ import annotations

from bot.core.text import fold_latin


def command_of(text: str | None) -> str | None:
    """ "/start@infopoint_bot extra words" -> "/start"; None for text that is not a command."""
    stripped = (text or "").strip()
    if not stripped.startswith("/"):
        return None
    return stripped.split(maxsplit=1)[0].split("@", 1)[0].lower()


def bounded_number(text: str, ceiling: int) -> int | None:
    """Decimal digits as their number, or ``ceiling`` for any larger one; None for other
    text. Python refuses to read more than 4,300 digits, and people and forged buttons may
    send more."""
    if not text.isdecimal():
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > len(str(ceiling)):
        return ceiling
    return min(int(significant), ceiling)


def typed_choice(offered: list[list[str]], text: str) -> str | None:
    """An option chosen by typing its number, label or value ("2", "English", "en")."""
    number = bounded_number(text, len(offered) + 1)
    if number is not None and 1 <= number <= len(offered):
        return offered[number - 1][0]
    folded = fold_latin(text)
    if not folded:
        return None
    for option_id, label in offered:
        if folded in (fold_latin(label), option_id.partition(":")[2]):
            return option_id
    return None

"""Replies rendered for Telegram: HTML with every string escaped, options as inline buttons."""

from __future__ import annotations

import functools
from html import escape
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.messages import Option, Reply

SHORT_LABEL: Final = 16
"""Buttons with labels up to this long are paired two to a row; longer ones get a row each."""


def render_html(reply: Reply) -> str:
    """The reply as Telegram HTML; nothing from the reply is trusted as markup."""
    parts: list[str] = []
    if reply.title:
        parts.append(f"<b>{escape(reply.title)}</b>\n\n")
    parts.append(escape(reply.text))
    for link in reply.links:
        parts.append(f'\n• <a href="{escape(link.url, quote=True)}">{escape(link.label)}</a>')
    return "".join(parts)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """Inline buttons carrying the options' stable ids as callback data."""
    return _keyboard(reply.options) if reply.options else None


def keyboard_json(reply: Reply) -> dict[str, object] | None:
    """The inline buttons as the Bot API's JSON, shared between calls: never change it."""
    return _keyboard_json(reply.options) if reply.options else None


@functools.lru_cache(maxsize=1024)
def _keyboard_json(options: tuple[Option, ...]) -> dict[str, object]:
    # PTB turns its button objects into this dict anew at every send: 3 % of the bot's CPU.
    return _keyboard(options).to_dict()


@functools.lru_cache(maxsize=1024)
def _keyboard(options: tuple[Option, ...]) -> InlineKeyboardMarkup:
    # Most replies carry one of a few menus; building PTB's button objects anew for each was
    # a twentieth of the bot's CPU under load. They are immutable, so one can serve all.
    rows: list[list[InlineKeyboardButton]] = []
    for option in options:
        button = InlineKeyboardButton(option.label, callback_data=option.id)
        last = rows[-1] if rows else None
        if (
            last is not None
            and len(last) == 1
            and len(option.label) <= SHORT_LABEL
            and len(last[0].text) <= SHORT_LABEL
        ):
            last.append(button)
        else:
            rows.append([button])
    return InlineKeyboardMarkup(rows)

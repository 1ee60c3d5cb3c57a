"""Replies rendered for Matrix: an ``m.notice`` with HTML and a plain-text body.

Matrix has no buttons, so options become a numbered list; the person answers with the number
or the option's text, which the dialogue engine maps back to the option. Every string from a
reply is escaped: nothing in a Reply is trusted as markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from html import escape
from typing import Any, Final

from bot.core.messages import Reply

HTML_FORMAT: Final = "org.matrix.custom.html"
_REPLY_FALLBACK = re.compile(r"\A(?:> [^\n]*\n)+\n", re.MULTILINE)


class BangCommands:
    """Matrix clients keep "/words" for their own commands, so the bot's commands are typed
    "!menu" there: texts that name "/menu" show "!menu", and "!menu" typed is read as "/menu"."""

    def __init__(self, names: Iterable[str]) -> None:
        alternatives = "|".join(names)
        self._slash = re.compile(r"(?<![\w/])/(" + alternatives + r")\b")
        self._bang = re.compile(r"^!(" + alternatives + r")\b", re.IGNORECASE)

    def shown(self, reply: Reply) -> Reply:
        return replace(reply, text=self._slash.sub(r"!\1", reply.text))

    def typed(self, text: str) -> str:
        return self._bang.sub(r"/\1", text)


def plain_text(reply: Reply) -> str:
    """The body for clients without HTML, and for notifications."""
    lines: list[str] = []
    if reply.title:
        lines += [reply.title, ""]
    lines.append(reply.text)
    lines += [f"• {link.label}: {link.url}" for link in reply.links]
    if reply.options:
        lines.append("")
        lines += [f"{number}. {option.label}" for number, option in enumerate(reply.options, 1)]
    return "\n".join(lines)


def html_text(reply: Reply) -> str:
    parts: list[str] = []
    if reply.title:
        parts.append(f"<b>{escape(reply.title, quote=False)}</b><br><br>")
    parts.append(_paragraphs(reply.text))
    if reply.links:
        items = "".join(
            f'<li><a href="{escape(link.url, quote=True)}">{escape(link.label)}</a></li>'
            for link in reply.links
        )
        parts.append(f"<ul>{items}</ul>")
    if reply.options:
        items = "".join(f"<li>{escape(option.label)}</li>" for option in reply.options)
        parts.append(f"<ol>{items}</ol>")
    return "".join(parts)


def notice(reply: Reply) -> dict[str, Any]:
    """The content of an ``m.room.message`` event showing ``reply``."""
    return {
        "msgtype": "m.notice",
        "body": plain_text(reply),
        "format": HTML_FORMAT,
        "formatted_body": html_text(reply),
    }


def edit_of(event_id: str, content: dict[str, Any]) -> dict[str, Any]:
    """Content replacing the message ``event_id`` with ``content`` (an ``m.replace`` edit)."""
    return {
        **content,
        "body": "* " + content["body"],
        "m.new_content": content,
        "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
    }


def in_reply_to(event_id: str, content: dict[str, Any]) -> dict[str, Any]:
    return {**content, "m.relates_to": {"m.in_reply_to": {"event_id": event_id}}}


def without_reply_fallback(body: str) -> str:
    """The text someone wrote, without the quoted lines older clients put before a reply."""
    return _REPLY_FALLBACK.sub("", body, count=1)


def _paragraphs(text: str) -> str:
    return escape(text, quote=False).replace("\n", "<br>")

"""Replies rendered for Matrix: an ``m.notice`` with HTML and a plain-text body.

Matrix has no buttons, so options become a numbered list; the person answers with the number
or the option's text, which the dialogue engine maps back to the option. Every string from a
reply is escaped: nothing in a Reply is trusted as markup.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from html import escape
from typing import Any, Final

from bot.core.messages import Reply

HTML_FORMAT: Final = "org.matrix.custom.html"
CONTENT_LIMIT: Final = 60_000
"""Bytes of an event's content as JSON. A homeserver refuses an event over 65,536 bytes in
all; the envelope (ids, hashes, signatures) takes the rest."""
_CUT: Final = CONTENT_LIMIT // 16
"""Characters of an overlong line per piece: a character costs at most 16 bytes across the
plain and the HTML body (4 in UTF-8, times an escape of up to 6 in JSON and in HTML)."""
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


def content_size(content: dict[str, Any]) -> int:
    return len(json.dumps(content, ensure_ascii=False).encode())


def fitted(
    reply: Reply,
    render: Callable[[Reply], dict[str, Any]] = notice,
    limit: int = CONTENT_LIMIT,
) -> list[dict[str, Any]]:
    """``reply`` as the contents of the fewest events a homeserver accepts."""
    return [content for _, content in fitted_parts(reply, render, limit)]


def fitted_parts(
    reply: Reply,
    render: Callable[[Reply], dict[str, Any]] = notice,
    limit: int = CONTENT_LIMIT,
) -> list[tuple[Reply, dict[str, Any]]]:
    """``reply`` as the fewest parts whose events a homeserver accepts: each part, and its
    event's content.

    A reply that is too big (a ticket's whole conversation, a long list) is split between
    lines, a line only when it alone is too big; the title goes on the first part, the links
    and options on the last. A part fits whole when it is fitted again, so the parts not yet
    sent can be stored as replies and sent later without repeating those that were.
    """
    whole = render(reply)
    if _surely_within(whole, limit) or content_size(whole) <= limit:
        return [(reply, whole)]
    # Each piece with what joins it to the one before: a new line, or nothing where a line
    # too long for one event was cut.
    pieces = [
        ("\n" if start == 0 else "", line[start : start + _CUT])
        for line in reply.text.split("\n")
        for start in range(0, max(len(line), 1), _CUT)
    ]
    groups: list[list[tuple[str, str]]] = [[]]
    for piece in pieces:
        title = reply.title if len(groups) == 1 else None
        candidate = Reply(_joined([*groups[-1], piece]), reply.language, title=title)
        if groups[-1] and content_size(render(candidate)) > limit:
            groups.append([piece])
        else:
            groups[-1].append(piece)
    parts = [Reply(_joined(group), reply.language) for group in groups]
    parts[0] = replace(parts[0], title=reply.title)
    last = replace(parts[-1], links=reply.links, options=reply.options)
    if content_size(render(last)) > limit:
        parts.append(replace(last, text="…", title=None))
    else:
        parts[-1] = last
    return [(part, render(part)) for part in parts]


def _surely_within(content: dict[str, Any], limit: int) -> bool:
    """Whether ``content`` fits without encoding it: in JSON a character takes at most six
    bytes (an escape like \\u001b), and the keys and quotes well under a kilobyte. Almost every
    reply passes, so it is not encoded just to be measured."""
    characters = sum(len(value) for value in content.values() if isinstance(value, str))
    return characters * 6 + 1024 <= limit


def _joined(pieces: list[tuple[str, str]]) -> str:
    """The pieces' text; the first one's joint is where the event before ended."""
    return "".join(joint + piece for joint, piece in pieces).removeprefix("\n")


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

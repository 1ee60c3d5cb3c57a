"""Telegram HTML cut into messages that fit Telegram's length limit, each one well-formed;
and a reply cut into replies that each fit one message."""

from __future__ import annotations

import re
from dataclasses import replace
from html import escape, unescape
from typing import Final

from bot.adapters.telegram.rendering import render_html
from bot.core.messages import Reply

TELEGRAM_LIMIT: Final = 4096
"""Telegram counts the visible text; we count the HTML we send, which is never shorter."""

_ATOM: Final = re.compile(r"<[^<>]*>|&#?[0-9A-Za-z]+;|.", re.DOTALL)
"""Tags and entities are indivisible; any other character is an atom of its own."""

_TAG: Final = re.compile(r"<(/?)([A-Za-z][\w-]*)")

_BREAKS: Final = ((("\n\n",), 0), (("\n",), 0), ((". ", "! ", "? "), 1), ((" ",), 0))
"""Where a cut reads best, best first, and how much of the separator stays before the cut:
a sentence keeps its full stop."""

Stack = tuple[tuple[str, str], ...]
"""The elements open at a point, outermost first: (name, opening tag as written)."""


def split_html(html: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Parts of at most ``limit`` characters, cut between tags and entities, tags balanced."""
    if len(html) <= limit:
        return [html]
    atoms: list[str] = _ATOM.findall(html)
    # One character per atom, tags and entities masked, so breaks are found with str.rfind.
    kinds = "".join(atom if len(atom) == 1 else "\0" for atom in atoms)
    parts: list[str] = []
    start = 0
    stack: Stack = ()
    while start < len(atoms):
        end, open_at_end = _cut(atoms, kinds, start, stack, limit)
        body = "".join(atoms[start:end])
        parts.append(_opening(stack) + body + _closing(open_at_end))
        start, stack = _skip_leftovers(atoms, end, open_at_end)
    return parts


def fitted_parts(reply: Reply, limit: int = TELEGRAM_LIMIT) -> list[Reply]:
    """``reply`` as the fewest replies whose HTML each fits one message: its text cut where
    ``split_html`` cuts (between paragraphs, lines, sentences, words), the title on the first
    part, the links and buttons on the last.

    A part fits whole when it is fitted again. So what is left of a reply after some of its
    parts went out can be stored as replies, and a crash then resends only the parts that
    did not: a crash between the parts of a reply cut as HTML resent it whole.
    """
    if len(render_html(reply)) <= limit:
        return [reply]
    # Room for each part's text, whichever part it is: the first carries the title's markup,
    # the last the links'. Ours take a line each; the floor only guards against a runaway
    # (parts would then be too long, and Telegram refuses them).
    title = len(render_html(Reply("", reply.language, title=reply.title)))
    links = len(render_html(Reply("", reply.language, links=reply.links)))
    room = max(limit // 4, limit - title - links)
    texts = [unescape(part) for part in split_html(escape(reply.text), room)]
    last = len(texts) - 1
    return [
        replace(
            reply,
            text=text,
            title=reply.title if index == 0 else None,
            links=reply.links if index == last else (),
            options=reply.options if index == last else (),
        )
        for index, text in enumerate(texts)
    ]


def _cut(atoms: list[str], kinds: str, start: int, stack: Stack, limit: int) -> tuple[int, Stack]:
    """Where the part beginning at ``start`` ends, and the elements still open there."""
    budget = limit - len(_opening(stack))
    fits: list[Stack] = []  # fits[k]: the elements open at start + k, for every end that fits
    length, open_now, first_end = 0, stack, 0
    for end in range(start, len(atoms) + 1):
        # Closing tags cost what they save in closers, so the cost never falls: stop early.
        if length + len(_closing(open_now)) > budget:
            break
        if end == len(atoms):
            return end, open_now
        fits.append(open_now)
        if not first_end and not _is_leftover(atoms[end]):
            first_end = end + 1  # the earliest end that gives the part some visible text
        length += len(atoms[end])
        open_now = _apply(open_now, atoms[end])
    last_end = start + len(fits) - 1
    if not first_end or first_end > last_end:
        raise ValueError(f"a limit of {limit} cannot hold the markup around one character")
    end = last_end  # the hard cut, when no break of any kind fits
    for separators, keep in _BREAKS:
        # The cut, found + keep, must land between first_end and last_end.
        found = max(
            kinds.rfind(sep, first_end - keep, last_end - keep + len(sep)) for sep in separators
        )
        if found >= 0:
            end = found + keep
            break
    # Whitespace and tags at the end move to the next part; closers re-create the tags.
    while _is_leftover(atoms[end - 1]):
        end -= 1
    return end, fits[end - start]


def _skip_leftovers(atoms: list[str], start: int, stack: Stack) -> tuple[int, Stack]:
    """The next part's first visible character, and the elements it must reopen."""
    while start < len(atoms) and _is_leftover(atoms[start]):
        stack = _apply(stack, atoms[start])
        start += 1
    return start, stack


def _is_leftover(atom: str) -> bool:
    """Whether the atom is whitespace or a tag: nothing a part may begin or end with."""
    return atom.isspace() or _TAG.match(atom) is not None


def _apply(stack: Stack, atom: str) -> Stack:
    """The open elements after ``atom``: an opening tag pushes, its closing tag pops."""
    match = _TAG.match(atom)
    if match is None or atom.endswith("/>"):
        return stack
    name = match[2].lower()
    if not match[1]:
        return (*stack, (name, atom))
    return stack[:-1] if stack and stack[-1][0] == name else stack


def _opening(stack: Stack) -> str:
    """The tags that reopen ``stack`` at the start of a part, attributes included."""
    return "".join(tag for _, tag in stack)


def _closing(stack: Stack) -> str:
    """The tags that close ``stack`` at the end of a part, innermost first."""
    return "".join(f"</{name}>" for name, _ in reversed(stack))

"""Replies too big for one Matrix event are split into events a homeserver accepts, and a
split reply cut off midway is finished later without repeating what was sent."""

from __future__ import annotations

from typing import Any

from bot.adapters.matrix.rendering import (
    CONTENT_LIMIT,
    content_size,
    fitted,
    fitted_parts,
    notice,
)
from bot.adapters.matrix.rooms import MatrixSendError, send_in_order
from bot.adapters.matrix.staff import board_notice
from bot.core.messages import Link, Option, Reply


def test_a_reply_that_fits_is_one_event() -> None:
    reply = Reply("Krótko.", "pl", title="Tytuł", options=(Option("menu", "Menu"),))
    assert fitted(reply) == [notice(reply)]


def test_a_long_conversation_is_split_between_lines_in_order() -> None:
    lines = [f"{number:03} · " + "ґ" * 3000 for number in range(60)]
    reply = Reply(
        "\n".join(lines),
        "uk",
        title="#7",
        links=(Link("gov.pl", "https://www.gov.pl/"),),
        options=(Option("ticket:7:close", "Zamknij"),),
    )
    contents = fitted(reply)
    assert len(contents) > 1
    assert all(content_size(content) <= CONTENT_LIMIT for content in contents)
    bodies = [content["body"] for content in contents]
    assert bodies[0].startswith("#7\n\n000 · ")
    assert not any(body.startswith("#7") for body in bodies[1:])
    assert bodies[-1].endswith("• gov.pl: https://www.gov.pl/\n\n1. Zamknij")
    assert not any("Zamknij" in body or "gov.pl" in body for body in bodies[:-1])
    shown = "\n".join(bodies)
    assert [line for line in lines if line in shown] == lines, "every line, whole and in order"


def test_one_overlong_line_of_costly_characters_is_cut_to_fit() -> None:
    """Each of these is several bytes in UTF-8 and grows again when escaped for HTML and JSON."""
    reply = Reply('&<"\\😀' * 20_000, "en")
    contents = fitted(reply)
    assert all(content_size(content) <= CONTENT_LIMIT for content in contents)
    assert "".join(content["body"] for content in contents) == reply.text


def test_staff_commands_go_on_the_last_of_a_split_answer() -> None:
    reply = Reply(
        "\n".join("ї" * 3000 for _ in range(30)),
        "pl",
        options=(Option("ticket:3:take", "Przejmij"), Option("ticket:3:close", "Zamknij")),
    )
    contents = fitted(reply, board_notice)
    assert len(contents) > 1
    assert all(content_size(content) <= CONTENT_LIMIT for content in contents)
    assert contents[-1]["body"].endswith("Przejmij: !take 3 · Zamknij: !close 3")
    assert not any("!take" in content["body"] for content in contents[:-1])


class FlakyRoom:
    """Accepts events, except that the ones numbered in ``fail_at`` (from 0) meet a passing
    error (a 429 or a 5xx) or, with ``permanent``, a refusal."""

    def __init__(self, fail_at: set[int], *, permanent: bool = False) -> None:
        self.fail_at = fail_at
        self.permanent = permanent
        self.tries = 0
        self.events: list[dict[str, Any]] = []
        self.transactions: list[str | None] = []

    async def send(
        self, room_id: str, content: dict[str, Any], transaction: str | None = None
    ) -> str:
        tried, self.tries = self.tries, self.tries + 1
        if tried in self.fail_at:
            raise MatrixSendError("M_LIMIT_EXCEEDED", permanent=self.permanent)
        self.events.append(content)
        self.transactions.append(transaction)
        return f"$event{len(self.events)}"


def long_answer() -> Reply:
    return Reply(
        "\n".join(f"{number:03} · " + "ґ" * 3000 for number in range(40)),
        "uk",
        title="#7",
        options=(Option("ticket:7:close", "Zamknij"),),
    )


def test_each_part_of_a_split_reply_fits_whole_when_fitted_again() -> None:
    parts = fitted_parts(long_answer())
    assert len(parts) > 2
    assert [fitted_parts(part) for part, _ in parts] == [
        [(part, content)] for part, content in parts
    ]


async def test_a_split_reply_cut_off_midway_is_finished_later_without_repeats() -> None:
    """What is stored after a passing failure starts at the first event not sent, so the
    next start sends only the rest."""
    first, second = Reply("Привіт", "uk"), long_answer()
    everything = [content for reply in (first, second) for content in fitted(reply)]
    stored: list[list[Reply]] = []

    async def settle(remaining: list[Reply]) -> None:
        stored.append(remaining)

    room = FlakyRoom(fail_at={2})
    parts = [part for reply in (first, second) for part in fitted_parts(reply)]
    await send_in_order(room, "!dm", parts, settle)
    assert room.events == everything[:2]
    assert stored[-1] == [part for part, _ in parts[2:]]

    later = [part for reply in stored[-1] for part in fitted_parts(reply)]
    await send_in_order(FlakyRoom(set()), "!dm", later, settle)
    resent = [content for _, content in later]
    assert room.events + resent == everything, "each event once, in order"
    assert stored[-1] == []


async def test_a_refused_reply_drops_the_rest() -> None:
    """The person left or the bot was removed: nothing is kept to send again."""
    stored: list[list[Reply]] = []

    async def settle(remaining: list[Reply]) -> None:
        stored.append(remaining)

    room = FlakyRoom(fail_at={1}, permanent=True)
    await send_in_order(room, "!dm", fitted_parts(long_answer()), settle)
    assert len(room.events) == 1
    assert stored[-1] == []


async def test_no_replies_settle_nothing() -> None:
    """An event synced again after a crash brings no replies of its own: the ones its first
    handling left unsent stay stored, for the start to send."""
    stored: list[list[Reply]] = []

    async def settle(remaining: list[Reply]) -> None:
        stored.append(remaining)

    room = FlakyRoom(set())
    await send_in_order(room, "!dm", [], settle)
    assert (room.events, stored) == ([], [])


async def test_a_part_resent_after_a_crash_goes_under_its_first_transaction_id() -> None:
    """The homeserver posts a transaction once: the parts a start sends again carry the ids
    they were first sent under, whatever was delivered before; other events' ids differ."""

    async def settle(_: list[Reply]) -> None: ...

    parts = fitted_parts(long_answer())
    assert len(parts) > 2
    first = FlakyRoom(set())
    await send_in_order(first, "!dm", parts, settle, "$question")
    # Killed after the homeserver took the second part, before the bot noted it: the start
    # sends from the second part on.
    again = FlakyRoom(set())
    await send_in_order(again, "!dm", parts[1:], settle, "$question")
    assert again.transactions == first.transactions[1:]
    assert len(set(first.transactions)) == len(parts)

    other = FlakyRoom(set())
    await send_in_order(other, "!dm", parts, settle, "$another")
    assert not set(other.transactions) & set(first.transactions)
    # Messages that answer no event (an apology, a staff answer) get the client's own ids.
    unanswered = FlakyRoom(set())
    await send_in_order(unanswered, "!dm", parts, settle)
    assert unanswered.transactions == [None] * len(parts)

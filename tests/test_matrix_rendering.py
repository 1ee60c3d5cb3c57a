"""Replies too big for one Matrix event are split into events a homeserver accepts."""

from __future__ import annotations

from bot.adapters.matrix.rendering import CONTENT_LIMIT, content_size, fitted, notice
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

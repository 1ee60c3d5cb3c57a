"""Numbers people and staff type, read without Python's limit of 4,300 digits in the way."""

from __future__ import annotations

from bot.core.typed import bounded_number, typed_choice

OFFERED = [["lang:uk", "Українська"], ["lang:en", "English"]]


def test_a_number_is_read_up_to_its_ceiling_and_a_longer_one_is_the_ceiling() -> None:
    assert bounded_number("2", 10) == 2
    assert bounded_number("0007", 10) == 7
    assert bounded_number("11", 10) == 10
    assert bounded_number("9" * 5000, 10) == 10
    assert bounded_number("0" * 4999 + "3", 10) == 3
    assert bounded_number("", 10) is None
    assert bounded_number("2a", 10) is None


def test_an_option_is_chosen_by_its_number_and_never_by_thousands_of_digits() -> None:
    assert typed_choice(OFFERED, "2") == "lang:en"
    assert typed_choice(OFFERED, "3") is None
    assert typed_choice(OFFERED, "1" * 5000) is None
    assert typed_choice(OFFERED, "0" * 5000 + "1") == "lang:uk"

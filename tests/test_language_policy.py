"""Which language the bot answers in, as people experience it.

The policy: an explicit choice always wins; a language the bot inferred follows a message
clearly written in another one, and says how to switch back; short or borrowed-word messages
("ok", "PESEL", "karta pobytu") never move it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.app import Core, build_core
from tests.conftest import FIXTURE_KNOWLEDGE, Chat, make_settings


def languages(chat: Chat) -> list[str]:
    return [reply.language for reply in chat.last]


def titles(chat: Chat) -> list[str | None]:
    return [reply.title for reply in chat.last if reply.title]


async def test_a_first_question_in_surzhyk_is_answered_in_ukrainian(chat: Chat) -> None:
    await chat.say("ну шо там з песелем, де його робити")
    assert languages(chat) == ["uk", "uk", "uk"]
    assert titles(chat) == ["Номер PESEL"]


async def test_the_message_language_beats_the_platform_hint(core: Core) -> None:
    chat = Chat(core, language_hint="pl")
    await chat.say("Как получить PESEL?")
    assert set(languages(chat)) == {"ru"}


async def test_a_bare_term_falls_back_to_the_platform_hint(core: Core) -> None:
    chat = Chat(core, language_hint="uk")
    await chat.say("PESEL")
    assert set(languages(chat)) == {"uk"}
    assert titles(chat) == ["Номер PESEL"]


async def test_an_inferred_language_follows_a_clearly_different_message(chat: Chat) -> None:
    await chat.say("Jak dostać PESEL?")
    assert set(languages(chat)) == {"pl"}

    transcript = await chat.say("How can I get a PESEL number in Krakow?")

    assert transcript.startswith(
        "You wrote in English, so I will answer in it from now on. "
        "To go back to Polski, send /language.\n---\n== PESEL number =="
    )
    assert set(languages(chat)) == {"en"}


async def test_the_switch_is_announced_in_the_new_language(chat: Chat) -> None:
    await chat.say("How do I get a PESEL?")
    transcript = await chat.say("Як отримати песель у Кракові?")
    assert transcript.startswith(
        "Ви пишете мовою «Українська», тож відтепер я відповідатиму нею. "
        "Щоб повернутися до мови «English», надішліть /language."
    )


async def test_an_explicit_choice_always_wins(chat: Chat) -> None:
    await chat.say("/start")
    await chat.press("lang:pl")

    transcript = await chat.say("How can I get a PESEL number in Krakow?")

    assert "You wrote in" not in transcript
    assert set(languages(chat)) == {"pl"}
    assert titles(chat) == ["Numer PESEL"]


async def test_choosing_again_makes_the_new_language_the_explicit_one(chat: Chat) -> None:
    await chat.say("How do I get a PESEL?")
    await chat.say("/language")
    await chat.press("lang:ru")
    await chat.say("Jak dostać PESEL w Krakowie?")
    assert set(languages(chat)) == {"ru"}


async def test_short_messages_and_office_terms_do_not_switch(chat: Chat) -> None:
    await chat.say("Як отримати песель?")
    for text in ("ok", "PESEL", "karta pobytu", "zameldowanie", "👍", "12345"):
        await chat.say(text)
        assert set(languages(chat)) == {"uk"}, text


async def test_the_choice_survives_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    first = await build_core(settings)
    try:
        chat = Chat(first)
        await chat.say("/start")
        await chat.press("lang:uk")
    finally:
        await first.database.dispose()
    second = await build_core(settings)
    try:
        chat = Chat(second)
        await chat.say("Jak dostać PESEL w Krakowie?")
        assert set(languages(chat)) == {"uk"}
    finally:
        await second.database.dispose()


async def test_a_topic_missing_the_language_says_which_one_it_answers_in(
    tmp_path: Path,
) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(FIXTURE_KNOWLEDGE, knowledge)
    pesel = knowledge / "docs.pesel.yaml"
    text = pesel.read_text(encoding="utf-8")
    pesel.write_text(text[: text.index("\nuk:")] + "\n", encoding="utf-8")  # pl and en only
    core = await build_core(make_settings(tmp_path, knowledge_dir=knowledge))
    try:
        chat = Chat(core)
        await chat.say("/start")
        await chat.press("lang:uk")
        transcript = await chat.say("pesel")
        assert transcript.startswith(
            "== PESEL number ==\n\n"
            "Ця відповідь ще недоступна вашою мовою. Ось вона мовою: English.\n\n"
        )
        assert "Інформацію перевірено" in transcript
    finally:
        await core.database.dispose()

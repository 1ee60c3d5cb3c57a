"""Answer, "did you mean" and "not sure" in all four languages, on the real knowledge base.

The person has picked their language; what follows is what they see for a clear question, a
vague one, small talk, something we do not do, and keyboard mashing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Core, build_core
from tests.conftest import ROOT, Chat, make_settings

NOT_SURE = {
    "pl": "Nie jestem pewien, czy umiem na to odpowiedzieć. Spróbuj innymi słowami albo wybierz "
    "temat z menu.",
    "en": "I am not sure I can answer that. Try other words, or choose a topic from the menu.",
    "uk": "Не впевнений, що можу на це відповісти. Спробуйте сформулювати інакше або оберіть "
    "тему в меню.",
    "ru": "Не уверен, что могу на это ответить. Попробуйте сформулировать иначе или выберите "
    "тему в меню.",
}
DID_YOU_MEAN = {
    "pl": "Nie jestem pewien, czy dobrze rozumiem. Czy chodzi o jeden z tych tematów?",
    "en": "I am not sure I understood. Did you mean one of these?",
    "uk": "Не впевнений, що правильно зрозумів. Ви мали на увазі одну з цих тем?",
    "ru": "Не уверен, что правильно понял. Вы имели в виду одну из этих тем?",
}
CHECKED = {
    "pl": "Informacje sprawdzone:",
    "en": "Information checked:",
    "uk": "Інформацію перевірено:",
    "ru": "Информация проверена:",
}


@pytest.fixture
async def real_core(tmp_path: Path) -> AsyncIterator[Core]:
    core = await build_core(make_settings(tmp_path, knowledge_dir=ROOT / "knowledge"))
    yield core
    await core.database.dispose()


async def person(core: Core, language: str, who: str = "") -> Chat:
    chat = Chat(core, user_id=f"person-{language}{who}")
    await chat.say("/start")
    await chat.press(f"lang:{language}")
    return chat


@pytest.mark.parametrize(
    ("language", "question", "topic", "title"),
    [
        (
            "pl",
            "gdzie załatwić meldunek w Krakowie",
            "docs.address-registration",
            "Zameldowanie (meldunek)",
        ),
        ("en", "how do i get a pesel number", "docs.pesel", "PESEL number for foreigners"),
        ("uk", "де в Кракові зробити песель", "docs.pesel", "Номер PESEL для іноземців"),
        ("ru", "kak poluchit pesel v krakove", "docs.pesel", "Номер PESEL для иностранцев"),
    ],
)
async def test_a_clear_question_is_answered_with_source_and_date(
    real_core: Core, language: str, question: str, topic: str, title: str
) -> None:
    chat = await person(real_core, language)
    await chat.say(question)
    [reply] = chat.last
    assert (reply.title, reply.language) == (title, language)
    assert CHECKED[language] in reply.text
    assert reply.links, "every answer names its sources"
    assert f"cat:{topic.split('.', maxsplit=1)[0]}" in chat.option_ids()


@pytest.mark.parametrize(
    ("language", "question", "offered"),
    [
        (
            "pl",
            "karta pobytu",
            ["stay.residence-card", "stay.temporary-residence", "stay.permanent-residence"],
        ),
        ("en", "doctor", ["health.night-care", "health.doctor"]),
        ("uk", "лікар", ["health.doctor", "health.night-care"]),
        ("ru", "врач", ["health.doctor", "health.night-care"]),
    ],
)
async def test_a_vague_question_gets_did_you_mean_and_one_tap_answers_it(
    real_core: Core, language: str, question: str, offered: list[str]
) -> None:
    chat = await person(real_core, language)
    await chat.say(question)
    [reply] = chat.last
    assert reply.text == DID_YOU_MEAN[language]
    assert chat.option_ids() == [f"topic:{topic}" for topic in offered] + ["menu"]

    await chat.press(f"topic:{offered[1]}")
    [answer] = chat.last
    assert answer.language == language
    assert CHECKED[language] in answer.text


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("pl", ["jaka będzie pogoda w weekend", "przepis na bigos", "asdfgh qwerty", "xkcd blarg"]),
        ("en", ["who won the football match yesterday", "tell me a joke", "asdkjh qwe"]),
        ("uk", ["яка погода буде завтра", "розкажи анекдот", "фівапр олдж"]),
        ("ru", ["какая погода завтра", "рецепт борща", "йцукен фыва"]),
    ],
)
async def test_out_of_scope_and_nonsense_are_never_answered_with_a_topic(
    real_core: Core, language: str, texts: list[str]
) -> None:
    for text in texts:
        chat = await person(real_core, language, who=text)  # a new person: no streak
        await chat.say(text)
        assert [reply.text for reply in chat.last] == [NOT_SURE[language]], text
        assert chat.option_ids() == ["menu"]


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("pl", ["dzień dobry", "dzięki"]),
        ("en", ["hello", "thanks a lot"]),
        ("uk", ["привіт", "дякую"]),
        ("ru", ["здравствуйте", "спасибо большое"]),
    ],
)
async def test_greetings_and_thanks_get_no_topic(
    real_core: Core, language: str, texts: list[str]
) -> None:
    chat = await person(real_core, language)
    for text in texts:
        await chat.say(text)
        assert [reply.title for reply in chat.last] == [None], text
        assert {reply.language for reply in chat.last} == {language}
        assert not any(option.startswith("topic:") for option in chat.option_ids())

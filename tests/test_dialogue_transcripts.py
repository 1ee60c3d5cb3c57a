"""Whole conversations with the dialogue engine, one per language, as specifications.

Each step is what the person does (text, or "@" and the id of a pressed button) and
exactly what the bot answers, rendered as the console shows it; "---" separates
messages. The engine runs with the real SQLite store and the fixture knowledge base.
"""

from __future__ import annotations

import pytest

from bot.app import Core
from tests.conftest import Chat

EN_CONVERSATION: list[tuple[str, list[str]]] = [
    (
        "/start",
        [
            "Wybierz język:",
            "Choose your language:",
            "Оберіть мову:",
            "Выберите язык:",
            "",
            "  1) Polski",
            "  2) English",
            "  3) Українська",
            "  4) Русский",
        ],
    ),
    (
        "@lang:en",
        [
            "I will answer in English. You can change the language at any time with /language.",
            "---",
            "About your privacy: I keep only your language and where we are in our conversation, under a code that does not reveal who you are. I do not store your name, username or phone number. /privacy tells you more.",
            "---",
            "What is your question about? Choose a topic, or simply write your question.",
            "",
            "  1) Documents and registration",
            "  2) Safety and rights",
            "  3) Talk to a person",
        ],
    ),
    (
        "2",
        [
            "Safety and rights: 1 topic. Choose one:",
            "",
            "  1) Emergency numbers",
            "  2) Main menu",
        ],
    ),
    (
        "1",
        [
            "== Emergency numbers ==",
            "",
            "112 – the emergency number across the EU.",
            "997 – police, 998 – fire brigade, 999 – ambulance.",
            "",
            "Information checked: April 29, 2026",
            "Source:",
            "  Gov.pl – numery alarmowe: https://www.gov.pl/web/numer-alarmowy-112",
            "",
            "  1) 👍",
            "  2) 👎",
            "  3) Talk to a person",
            "  4) Back to: Safety and rights",
            "  5) Main menu",
        ],
    ),
    (
        "thanks",
        [
            "You are welcome! Write again whenever you need.",
        ],
    ),
    (
        "/privacy",
        [
            "== Privacy ==",
            "",
            "What I store and why",
            "",
            "• A code made from your account id with a secret key, instead of the id itself, so that I recognise you when you write again.",
            "• Your chosen language, so that I answer in it.",
            "• Where we are in the conversation (for example, the options I showed you last), so that I understand your next message.",
            "• The ids of messages I have already handled, so that I never answer one twice.",
            "• If you write a question before choosing a language, its text, only until I have answered it.",
            "• If you ask for a person: what you write to the staff and the address of this chat, so that their answers reach you. This is deleted 90 days after your request is closed.",
            "• For the city's statistics: when you wrote, in which language and messenger, which topics I answered and your 👍/👎 ratings – never what you wrote.",
            "",
            "Conversation details are deleted after 90 days without contact. Statistics from earlier years are kept only under a random code that nobody can link to you.",
            "",
            "I do not store your name, username or phone number, and I share nothing with anyone. The messenger you use keeps its own copy of this chat under its own rules.",
            "",
            "/forget erases what I store about you at once; only anonymous totals remain.",
            "",
            "This assistant belongs to the Information Point for Foreigners of the City of Kraków (the Open Krakow programme). Questions about your data: otwarty@um.krakow.pl.",
        ],
    ),
    (
        "/language",
        [
            "Choose your language:",
            "Wybierz język:",
            "Оберіть мову:",
            "Выберите язык:",
            "",
            "  1) Polski",
            "  2) English",
            "  3) Українська",
            "  4) Русский",
        ],
    ),
    (
        "Polski",
        [
            "Będę odpowiadać w języku: Polski. Język możesz zmienić w każdej chwili poleceniem /language.",
            "---",
            "Czego dotyczy Twoje pytanie? Wybierz temat albo po prostu napisz pytanie.",
            "",
            "  1) Dokumenty i meldunek",
            "  2) Bezpieczeństwo i prawa",
            "  3) Porozmawiaj z człowiekiem",
        ],
    ),
]


PL_CONVERSATION: list[tuple[str, list[str]]] = [
    (
        "jak dostać pesel",
        [
            "Będę odpowiadać w języku: Polski. Język możesz zmienić w każdej chwili poleceniem /language.",
            "---",
            "O Twojej prywatności: zapisuję tylko Twój język i etap naszej rozmowy, pod kodem, który nie zdradza, kim jesteś. Nie zapisuję Twojego imienia, nazwy użytkownika ani numeru telefonu. Więcej informacji: /privacy.",
            "---",
            "== Numer PESEL ==",
            "",
            "PESEL dostaniesz przy zameldowaniu albo na wniosek w Urzędzie Miasta Krakowa.",
            "",
            "Informacje sprawdzone: 29 kwietnia 2026",
            "Źródło:",
            "  Otwarty Kraków – Nadanie numeru PESEL: https://otwarty.krakow.pl/punkt_informacyjny/246758,artykul,nadanie_numeru_pesel.html",
            "",
            "  1) 👍",
            "  2) 👎",
            "  3) Porozmawiaj z człowiekiem",
            "  4) Wróć do: Dokumenty i meldunek",
            "  5) Menu główne",
        ],
    ),
    (
        "/start",
        [
            "Witaj ponownie!",
            "",
            "Czego dotyczy Twoje pytanie? Wybierz temat albo po prostu napisz pytanie.",
            "",
            "  1) Dokumenty i meldunek",
            "  2) Bezpieczeństwo i prawa",
            "  3) Porozmawiaj z człowiekiem",
        ],
    ),
    (
        "/menu",
        [
            "Czego dotyczy Twoje pytanie? Wybierz temat albo po prostu napisz pytanie.",
            "",
            "  1) Dokumenty i meldunek",
            "  2) Bezpieczeństwo i prawa",
            "  3) Porozmawiaj z człowiekiem",
        ],
    ),
    (
        "1",
        [
            "Dokumenty i meldunek: 2 tematy. Wybierz jeden:",
            "",
            "  1) Zameldowanie",
            "  2) Numer PESEL",
            "  3) Menu główne",
        ],
    ),
    (
        "/nope",
        [
            "Nie znam polecenia /nope. Co potrafię, pokazuje /help.",
        ],
    ),
]


UK_CONVERSATION: list[tuple[str, list[str]]] = [
    (
        "PESEL",
        [
            "Wybierz język:",
            "Choose your language:",
            "Оберіть мову:",
            "Выберите язык:",
            "",
            "  1) Polski",
            "  2) English",
            "  3) Українська",
            "  4) Русский",
        ],
    ),
    (
        "@lang:uk",
        [
            "Я відповідатиму мовою: Українська. Змінити мову можна будь-коли командою /language.",
            "---",
            "Про вашу приватність: я зберігаю лише вашу мову та етап нашої розмови — під кодом, який не розкриває, хто ви. Я не зберігаю ваше ім'я, ім'я користувача чи номер телефону. Докладніше — /privacy.",
            "---",
            "== Номер PESEL ==",
            "",
            "PESEL надають під час реєстрації адреси (zameldowanie) або за заявою в Ужонді міста Кракова.",
            "",
            "Інформацію перевірено: 29 квітня 2026\u202fр.",
            "Джерело:",
            "  Otwarty Kraków – Nadanie numeru PESEL: https://otwarty.krakow.pl/punkt_informacyjny/246758,artykul,nadanie_numeru_pesel.html",
            "",
            "  1) 👍",
            "  2) 👎",
            "  3) Поговорити з людиною",
            "  4) Назад до: Документи та реєстрація",
            "  5) Головне меню",
        ],
    ),
    (
        "привіт",
        [
            "Вітаю! Я помічник Інформаційного пункту для іноземців у Кракові.",
            "",
            "Чого стосується ваше запитання? Оберіть тему або просто напишіть запитання.",
            "",
            "  1) Документи та реєстрація",
            "  2) Безпека та права",
            "  3) Поговорити з людиною",
        ],
    ),
    (
        "дякую",
        [
            "Будь ласка! Пишіть, коли знадобиться.",
        ],
    ),
    (
        "@topic:gone.topic",
        [
            "Ця кнопка вже не активна.",
            "---",
            "Чого стосується ваше запитання? Оберіть тему або просто напишіть запитання.",
            "",
            "  1) Документи та реєстрація",
            "  2) Безпека та права",
            "  3) Поговорити з людиною",
        ],
    ),
]


RU_CONVERSATION: list[tuple[str, list[str]]] = [
    (
        "/start",
        [
            "Выберите язык:",
            "Wybierz język:",
            "Choose your language:",
            "Оберіть мову:",
            "",
            "  1) Polski",
            "  2) English",
            "  3) Українська",
            "  4) Русский",
        ],
    ),
    (
        "@lang:ru",
        [
            "Я буду отвечать на языке: Русский. Сменить язык можно в любой момент командой /language.",
            "---",
            "О вашей конфиденциальности: я храню только ваш язык и этап нашего разговора — под кодом, который не раскрывает, кто вы. Я не храню ваше имя, имя пользователя или номер телефона. Подробнее — /privacy.",
            "---",
            "О чём ваш вопрос? Выберите тему или просто напишите вопрос.",
            "",
            "  1) Документы и регистрация",
            "  2) Безопасность и права",
            "  3) Поговорить с человеком",
        ],
    ),
    (
        "kak poluchit pesel",
        [
            "== Номер PESEL ==",
            "",
            "PESEL присваивают при регистрации адреса (zameldowanie) или по заявлению в Уженде города Кракова.",
            "",
            "Информация проверена: 29 апреля 2026\u202fг.",
            "Источник:",
            "  Otwarty Kraków – Nadanie numeru PESEL: https://otwarty.krakow.pl/punkt_informacyjny/246758,artykul,nadanie_numeru_pesel.html",
            "",
            "  1) 👍",
            "  2) 👎",
            "  3) Поговорить с человеком",
            "  4) Назад: Документы и регистрация",
            "  5) Главное меню",
        ],
    ),
    (
        "   ",
        [
            "Пожалуйста, напишите свой вопрос словами.",
        ],
    ),
    (
        "/help",
        [
            "Я отвечаю на вопросы иностранцев о жизни в Кракове: легальное пребывание, документы, работа, здоровье, школы, социальная помощь и многое другое. Просто напишите свой вопрос или воспользуйтесь командами:",
            "",
            "/menu – темы",
            "/human – поговорить с сотрудником Информационного пункта",
            "/cancel – закрыть обращение к сотрудникам",
            "/language – сменить язык",
            "/privacy – что я о вас храню",
            "/forget – удалить ваши данные",
            "/help – эта справка",
            "",
            "  1) Главное меню",
        ],
    ),
    (
        "@cat:docs",
        [
            "Документы и регистрация: 2 темы. Выберите одну:",
            "",
            "  1) Регистрация адреса",
            "  2) Номер PESEL",
            "  3) Главное меню",
        ],
    ),
]


@pytest.mark.parametrize(
    ("hint", "conversation"),
    [
        pytest.param(None, EN_CONVERSATION, id="en"),
        pytest.param(None, PL_CONVERSATION, id="pl"),
        pytest.param(None, UK_CONVERSATION, id="uk"),
        pytest.param("ru", RU_CONVERSATION, id="ru"),
    ],
)
async def test_conversation(
    core: Core, hint: str | None, conversation: list[tuple[str, list[str]]]
) -> None:
    chat = Chat(core, language_hint=hint)
    for step, expected in conversation:
        if step.startswith("@"):
            actual = await chat.press(step[1:])
        else:
            actual = await chat.say(step)
        assert actual.split("\n") == expected, f"after {step!r}"

"""The bot's replies, one builder per screen, each in the person's language."""

from __future__ import annotations

import functools
from datetime import date

from babel.dates import format_date

from bot.core.i18n import LANGUAGE_NAMES, LANGUAGES, Localizer, Translator
from bot.core.knowledge import CATEGORIES, KnowledgeBase, Topic
from bot.core.messages import Link, Option, Reply

HUMAN = "human"
COMMAND_QUOTE = 40
"""How much of an unknown command is quoted back to the person."""


def _every_language(first: str | None) -> list[str]:
    """The four languages, ``first`` first, for a text shown in all of them."""
    return sorted(LANGUAGES, key=lambda lang: lang != first)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when it was longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


"""The option id of "Talk to a person", under every answer and in the menu."""


class Screens:
    """Builds localised replies; knows nothing of who the person is or where they write."""

    def __init__(
        self, translator: Translator, knowledge: KnowledgeBase, retention_days: int = 90
    ) -> None:
        self._translator = translator
        self._knowledge = knowledge
        self._retention_days = retention_days

    def _t(self, language: str) -> Localizer:
        return self._translator.localizer(language)

    def menu_option(self, language: str) -> Option:
        return Option("menu", self._t(language)._("Main menu"))

    def human_option(self, language: str) -> Option:
        return Option(HUMAN, self._t(language)._("Talk to a person"))

    def language_picker(self, language: str | None) -> Reply:
        """Asks for the language in all four languages, the person's own first."""
        prompt = "\n".join(
            self._t(lang)._("Choose your language:") for lang in _every_language(language)
        )
        options = tuple(Option(f"lang:{lang}", LANGUAGE_NAMES[lang]) for lang in LANGUAGES)
        return Reply(prompt, language or "en", options=options)

    def language_set(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(
            t._(
                "I will answer in {language}. You can change the language at any time "
                "with /language.",
                language=LANGUAGE_NAMES[language],
            ),
            language,
        )

    def language_switched(self, language: str, previous: str) -> Reply:
        """The bot follows the language the person now writes in, and says the way back."""
        t = self._t(language)
        return Reply(
            t._(
                "You wrote in {language}, so I will answer in it from now on. To go back to "
                "{previous}, send /language.",
                language=LANGUAGE_NAMES[language],
                previous=LANGUAGE_NAMES[previous],
            ),
            language,
        )

    def privacy_notice(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(
            t._(
                "About your privacy: I keep only your language and where we are in our "
                "conversation, under a code that does not reveal who you are. I do not "
                "store your name, username or phone number. /privacy tells you more."
            ),
            language,
        )

    def privacy(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(
            t._(
                "What I store and why\n\n"
                "• A code made from your account id with a secret key, instead of the id "
                "itself, so that I recognise you when you write again.\n"
                "• Your chosen language, so that I answer in it.\n"
                "• Where we are in the conversation (for example, the options I showed you "
                "last), so that I understand your next message.\n"
                "• The ids of messages I have already handled, so that I never answer one "
                "twice.\n"
                "• If you write a question before choosing a language, its text, only until "
                "I have answered it.\n"
                "• If you ask for a person: what you write to the staff and the address of "
                "this chat, so that their answers reach you. This is deleted {days} days "
                "after your request is closed.\n"
                "• For the city's statistics: when you wrote, in which language and "
                "messenger, which topics I answered and your 👍/👎 ratings – never what you "
                "wrote.\n\n"
                "Conversation details are deleted after {days} days without contact. "
                "Statistics from earlier years are kept only under a random code that nobody "
                "can link to you.\n\n"
                "I do not store your name, username or phone number, and I share nothing "
                "with anyone. The messenger you use keeps its own copy of this chat under "
                "its own rules.\n\n"
                "/forget erases what I store about you at once; only anonymous totals "
                "remain.\n\n"
                "This assistant belongs to the Information Point for Foreigners of the City "
                "of Kraków (the Open Krakow programme). Questions about your data: "
                "otwarty@um.krakow.pl.",
                days=self._retention_days,
            ),
            language,
            title=t._("Privacy"),
        )

    def forget_confirmation(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(
            t._(
                "Erase everything I store about you: your language, our conversation and the "
                "link between you and the statistics? This cannot be undone."
            ),
            language,
            options=(
                Option("forget:yes", t._("Yes, erase my data")),
                Option("forget:no", t._("No, keep it")),
            ),
        )

    def forgotten(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(
            t._(
                "Done: I have erased your data. If you write again, I will treat you as "
                "someone new."
            ),
            language,
        )

    def not_a_coordinator(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(t._("Sorry, reports are only for the programme coordinator."), language)

    def report_problem(self, language: str, problem: str) -> Reply:
        t = self._t(language)
        return Reply(
            t._("I could not make that report: {problem}. Write /report YYYY-MM.", problem=problem),
            language,
        )

    def forget_cancelled(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(t._("Nothing was erased."), language)

    def help(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(
            t._(
                "I answer questions about living in Kraków as a foreigner: legal stay, "
                "documents, work, health, schools, social support and more. Simply write "
                "your question, or use these commands:\n\n"
                "/menu – topics\n"
                "/human – talk to a person from the Information Point\n"
                "/cancel – close your request to staff\n"
                "/language – change the language\n"
                "/privacy – what I store about you\n"
                "/forget – erase your data\n"
                "/help – this help"
            ),
            language,
            options=(self.menu_option(language),),
        )

    def main_menu(self, language: str, *, greeting: str | None = None) -> Reply:
        t = self._t(language)
        prompt = t._("What is your question about? Choose a topic, or simply write your question.")
        options = tuple(
            Option(f"cat:{category}", t._(CATEGORIES[category]))
            for category in self._knowledge.categories()
        )
        options += (self.human_option(language),)
        text = f"{greeting}\n\n{prompt}" if greeting else prompt
        return Reply(text, language, options=options)

    def category(self, language: str, category: str) -> Reply:
        t = self._t(language)
        topics = self._knowledge.topics_in(category)
        text = t.ngettext(
            "{category}: {n} topic. Choose one:",
            "{category}: {n} topics. Choose one:",
            len(topics),
            category=t._(CATEGORIES[category]),
        )
        options = tuple(
            Option(f"topic:{topic.id}", topic.text_for(language)[1].title) for topic in topics
        )
        return Reply(text, language, options=(*options, self.menu_option(language)))

    def answer(self, language: str, topic: Topic) -> Reply:
        t = self._t(language)
        entry_language, entry = topic.text_for(language)
        checked = _long_date(topic.checked, language)
        checked_line = t._("Information checked: {date}", date=checked)
        sources_label = t.ngettext("Source:", "Sources:", len(topic.sources))
        text = f"{entry.answer.strip()}\n\n{checked_line}\n{sources_label}"
        if entry_language != language:
            fallback = t._(
                "This answer is not yet available in your language; here it is in {language}.",
                language=LANGUAGE_NAMES[entry_language],
            )
            text = f"{fallback}\n\n{text}"
        back = Option(
            f"cat:{topic.category}",
            t._("Back to: {category}", category=t._(CATEGORIES[topic.category])),
        )
        return Reply(
            text,
            entry_language,
            title=entry.title,
            links=tuple(Link(source.title, source.url) for source in topic.sources),
            options=(
                Option(f"rate:up:{topic.id}", "👍"),
                Option(f"rate:down:{topic.id}", "👎"),
                self.human_option(language),
                back,
                self.menu_option(language),
            ),
            topic_id=topic.id,
        )

    def thanks_for_rating(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(t._("Thank you! Your rating helps us improve these answers."), language)

    def already_rated(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(t._("You have already rated this answer. Thank you!"), language)

    def did_you_mean(self, language: str, topics: list[Topic]) -> Reply:
        """Close candidates as buttons, so one tap gets the right answer."""
        t = self._t(language)
        options = tuple(
            Option(f"topic:{topic.id}", topic.text_for(language)[1].title) for topic in topics
        )
        return Reply(
            t._("I am not sure I understood. Did you mean one of these?"),
            language,
            options=(*options, self.menu_option(language)),
        )

    def not_understood(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(
            t._(
                "I am not sure I can answer that. Try other words, or choose a topic from the menu."
            ),
            language,
            options=(self.menu_option(language),),
        )

    def greeting(self, language: str) -> Reply:
        t = self._t(language)
        return self.main_menu(
            language,
            greeting=t._(
                "Hello! I am the assistant of the Information Point for Foreigners in Kraków."
            ),
        )

    def thanks(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(t._("You are welcome! Write again whenever you need."), language)

    def welcome_back(self, language: str) -> Reply:
        return self.main_menu(language, greeting=self._t(language)._("Welcome back!"))

    def unknown_command(self, language: str, command: str) -> Reply:
        t = self._t(language)
        return Reply(
            t._(
                "I do not know the command {command}. /help lists what I can do.",
                # Quoted back only in part: the command is whatever the person typed.
                command=shorten(command, COMMAND_QUOTE),
            ),
            language,
        )

    def stale_option(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(t._("That button is no longer active."), language)

    def empty_text(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(t._("Please write your question in words."), language)

    def undecryptable(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(
            t._(
                "I could not decrypt your last message: your app has not shared its encryption "
                "key with me yet. I have asked it for the key. Please send the message again. "
                "If this keeps happening, start a new direct chat with me."
            ),
            language,
        )

    def not_text(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(
            t._("I can read only text. Please write your question in words."),
            language,
            options=(self.human_option(language),),
        )

    def picture_or_file(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(
            t._(
                "I can read only text, so I cannot look at pictures or files. If it is a "
                "document you have questions about, the Information Point's staff can help: "
                "talk to a person. Or write your question in words."
            ),
            language,
            options=(self.human_option(language),),
        )

    def slow_down(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(
            t._(
                "You are sending messages faster than I can answer them. Please wait a minute, "
                "then write your question in one message."
            ),
            language,
        )

    def private_chats_only(self, language: str | None, default: str) -> Reply:
        """In the language of the one who added the bot, or in all four when it is unknown
        (Matrix tells no language): whoever reads it in the group should understand it."""
        languages = [language] if language else _every_language(default)
        text = "\n\n".join(
            self._t(lang)._(
                "I answer only in private chats, so I am leaving this group. Write to me "
                "directly to ask your question."
            )
            for lang in languages
        )
        return Reply(text, language or default)

    def apology(self, language: str) -> Reply:
        t = self._t(language)
        return Reply(
            t._("Sorry, something went wrong on my side. Please try again in a moment."), language
        )

    def command_descriptions(self, language: str) -> list[tuple[str, str]]:
        """The bot's commands with a short description, for the messenger's command menu."""
        t = self._t(language)
        return [
            ("start", t._("Start")),
            ("menu", t._("Topics")),
            ("human", t._("Talk to a person")),
            ("language", t._("Change the language")),
            ("privacy", t._("What I store about you")),
            ("forget", t._("Erase my data")),
            ("help", t._("Help")),
        ]


@functools.lru_cache(maxsize=1024)
def _long_date(day: date, language: str) -> str:
    # Babel looks its locale data up anew on each call: an eighth of the time the dialogue
    # spent answering. A knowledge base has a few check dates, in four languages.
    return format_date(day, format="long", locale=language)

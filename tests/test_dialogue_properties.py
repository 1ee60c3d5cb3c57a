"""Properties of the dialogue engine under any input, as specifications.

Whatever people send – arbitrary Unicode, forged button ids, commands in any order, on any
messenger – the engine raises nothing and every reply it gives can be delivered: it is in a
supported language, has text, and fits Telegram's buttons and Matrix's event size. The engine
runs with the real knowledge base, so answers are the ones people get.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import hypothesis
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from bot.adapters.matrix.rendering import notice
from bot.adapters.telegram.rendering import render_html
from bot.app import Core, build_core
from bot.core.knowledge import CATEGORIES
from bot.core.messages import Channel, Inbound, Reply, Unreadable
from tests.conftest import ROOT, make_settings

pytestmark = pytest.mark.asyncio(loop_scope="module")

SUPPORTED_LANGUAGES = {"pl", "en", "uk", "ru"}
MAX_OPTIONS = 100
MAX_LABEL_CHARACTERS = 64
MAX_CALLBACK_DATA_BYTES = 64
"""Telegram's limit for a button's callback_data, which carries the option's id."""
MAX_MATRIX_CONTENT_BYTES = 60_000
"""Below Matrix's 65,536-byte event limit, leaving room for the event's envelope."""
START = datetime(2026, 11, 2, 7, tzinfo=UTC)
"""A Monday morning; the steps' waits carry a conversation into and out of office hours."""

TOPIC_IDS = sorted(
    path.stem for path in (ROOT / "knowledge").glob("*.yaml") if not path.stem.startswith("_")
)
COMMANDS = [
    "/start",
    "/menu",
    "/language",
    "/help",
    "/privacy",
    "/forget",
    "/human",
    "/cancel",
    "/report",
]
VALID_CHOICES = [
    *(f"lang:{language}" for language in sorted(SUPPORTED_LANGUAGES)),
    *(f"cat:{category}" for category in CATEGORIES),
    *(f"topic:{topic}" for topic in TOPIC_IDS),
    *(f"rate:{verdict}:{topic}" for verdict in ("up", "down") for topic in TOPIC_IDS[:5]),
    "human",
    "handoff:yes",
    "handoff:no",
    "forget:yes",
    "forget:no",
    "menu",
]
PHRASES = [
    # Questions the knowledge base answers, in its four languages.
    "Jak dostać numer PESEL?",
    "How do I get a residence card?",
    "Як отримати PESEL?",
    "Как получить карту побыту?",
    "where can I find a doctor at night",
    # Danger, asking for a person, small talk.
    "mąż bije mnie",
    "I want to kill myself",
    "talk to a person",
    "з людиною, будь ласка",
    "соедините с оператором",
    "hello",
    "dziękuję",
    # Out of scope, and a description long enough for staff.
    "what is the weather tomorrow",
    "My employer has not paid me for three months and I do not know what to do",
    # Typed choices: option numbers, labels and values, as Matrix and the console send them.
    "1",
    "2",
    "5",
    "0",
    "99",
    "English",
    "Українська",
    "ru",
]
NASTY_CHARACTERS = (
    "\u200b\u200c\u200d\u2060\ufeff"  # zero-width
    "\u200e\u200f\u202a\u202b\u202e\u2066\u2069"  # direction marks and overrides
    "\x00\x07\x08\x1b\x7f\x85\r\n\t\u00a0\u2028\u3000"  # control characters and odd spaces
    "🙂👍🏽👨\u200d👩\u200d👧🇵🇱\u0301\u0336"  # emoji, skin tones, flags, combining marks
    "\u0627\u0644\u05d0\u05d1ßİı"  # Arabic, Hebrew, case-mapping surprises
    "<>&\"'`*_~[]()#|\\/@:;-%"  # markup and SQL punctuation
)


def _repeat(piece: str, length: int) -> str:
    """``piece`` repeated to exactly ``length`` characters."""
    return (piece * length)[:length]


texts = st.one_of(
    st.text(max_size=40),  # any code point but surrogates, control characters included
    st.text(alphabet=NASTY_CHARACTERS, max_size=40),
    st.sampled_from(PHRASES),
    st.builds("{} {}".format, st.sampled_from(PHRASES), st.text(NASTY_CHARACTERS, max_size=10)),
    st.sampled_from(
        [
            "'; DROP TABLE people; --",
            "<b>bold</b> <script>alert(1)</script> [link](http://x) **md**",
            "{language} {0} %s %(days)d",
        ]
    ),
    # Telegram delivers at most 4,096 characters; Matrix allows far more.
    st.builds(_repeat, st.text(min_size=1, max_size=12), st.integers(100, 12_000)),
)
commands = st.builds(
    "{}{}{}".format,
    st.sampled_from([*COMMANDS, "/START", "/Menu", "/unknown", "/"]),
    st.sampled_from(["", "@infopoint_bot", "@other_bot", "@"]),
    st.sampled_from(["", " ", " 2026-11", " 13-2026", " extra words"])
    | st.text(max_size=20).map(" {}".format),
)
choices = st.one_of(
    st.sampled_from(VALID_CHOICES),
    # Ticket numbers, issued or not, up to past the database's integers.
    st.builds("rate:{}:ticket:{}".format, st.sampled_from(["up", "down"]), st.integers(0, 2**70)),
    st.builds(
        "{}:{}".format,
        st.sampled_from(["lang", "cat", "topic", "rate", "handoff", "forget", "ticket", "menu"]),
        st.text(max_size=20),
    ),
    st.text(max_size=MAX_CALLBACK_DATA_BYTES),
)


@dataclass(frozen=True, slots=True)
class Action:
    """What someone does: writes text (commands too), presses an option, or sends the unreadable."""

    text: str | None = None
    choice: str | None = None
    unreadable: Unreadable | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """One event: who acts, on which messenger, how long after the previous event, and what."""

    person: int
    channel: Channel
    language_hint: str | None
    wait: timedelta
    action: Action

    def inbound(self, people: str, received_at: datetime) -> Inbound:
        return Inbound(
            channel=self.channel,
            user_id=f"{people}-{self.person}",
            event_id=uuid.uuid4().hex,
            received_at=received_at,
            text=self.action.text,
            choice=self.action.choice,
            language_hint=self.language_hint,
            unreadable=self.action.unreadable,
        )


steps = st.builds(
    Step,
    person=st.integers(0, 2),
    channel=st.sampled_from(Channel),
    language_hint=st.sampled_from([None, "pl", "en", "en-US", "uk", "ru", "de", "pt-br", ""])
    | st.text(max_size=8),
    wait=st.sampled_from([0, 1, 90, 3600, 10 * 3600, 3 * 86400]).map(
        lambda seconds: timedelta(seconds=seconds)
    ),
    action=st.one_of(
        texts.map(lambda text: Action(text=text)),
        commands.map(lambda text: Action(text=text)),
        choices.map(lambda choice: Action(choice=choice)),
        st.sampled_from(Unreadable).map(lambda kind: Action(unreadable=kind)),
    ),
)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def live_core(
    tmp_path_factory: pytest.TempPathFactory, compiled_catalogues: None
) -> AsyncIterator[Core]:
    """One engine for the module, on the real knowledge base; every example brings new people."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("INFOPOINT_"):
                patch.delenv(name)
        settings = make_settings(
            tmp_path_factory.mktemp("properties"), knowledge_dir=ROOT / "knowledge"
        )
    built = await build_core(settings)
    yield built
    await built.database.dispose()


def assert_deliverable(reply: Reply) -> None:
    """The reply is in a supported language and fits every messenger's limits."""
    assert reply.language in SUPPORTED_LANGUAGES, reply
    assert reply.text.strip(), reply
    assert len(reply.options) <= MAX_OPTIONS, reply
    for option in reply.options:
        assert option.label.strip(), option
        assert len(option.label) <= MAX_LABEL_CHARACTERS, option
        assert 1 <= len(option.id.encode()) <= MAX_CALLBACK_DATA_BYTES, option
    assert isinstance(render_html(reply), str)
    matrix_content = json.dumps(notice(reply), ensure_ascii=False).encode()
    assert len(matrix_content) < MAX_MATRIX_CONTENT_BYTES, reply.text[:200]


async def send(core: Core, action: Action, user_id: str, hint: str | None = None) -> list[Reply]:
    """One Telegram event from ``user_id``, at the start of the Monday."""
    return await core.engine.handle(
        Inbound(
            channel=Channel.TELEGRAM,
            user_id=user_id,
            event_id=uuid.uuid4().hex,
            received_at=START,
            text=action.text,
            choice=action.choice,
            language_hint=hint,
        )
    )


@hypothesis.settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(conversation=st.lists(steps, min_size=1, max_size=8))
async def test_any_conversation_gets_only_deliverable_replies(
    live_core: Core, conversation: list[Step]
) -> None:
    """Any sequence of texts, commands and presses by a few people raises nothing and every
    reply is deliverable."""
    people = uuid.uuid4().hex  # new people in every example: no state leaks between them
    now = START
    for step in conversation:
        now += step.wait
        for reply in await live_core.engine.handle(step.inbound(people, now)):
            assert_deliverable(reply)


NASTY_TEXTS = [
    pytest.param("", id="empty"),
    pytest.param(" \t\n\u3000\u00a0 ", id="whitespace-only"),
    pytest.param(_repeat("Jak dostać numer PESEL? ", 10_000), id="10000-characters"),
    pytest.param("🙂👍🏽👨\u200d👩\u200d👧🇵🇱", id="emoji-only"),
    pytest.param("\u200bPE\u200dSEL\ufeff\x00\x07\x1b[31m\x7f", id="zero-width-and-control"),
    pytest.param("كيف أحصل على رقم PESEL؟", id="arabic"),
    pytest.param("איך מקבלים מספר PESEL?", id="hebrew"),
    pytest.param("Як отримати PESEL? как получить kartę pobytu? 住民登録 🙂", id="mixed-scripts"),
    pytest.param("<b>bold</b> <script>alert(1)</script> [link](http://x) **md**", id="html"),
    pytest.param("'; DROP TABLE people; --", id="sql"),
]


@pytest.mark.parametrize("settled", [False, True], ids=["first-contact", "settled"])
@pytest.mark.parametrize("text", NASTY_TEXTS)
async def test_nasty_text_gets_a_deliverable_reply(
    live_core: Core, text: str, *, settled: bool
) -> None:
    """Nasty text, from someone new or someone who chose English, gets at least one
    deliverable reply with no raw markup in it."""
    user_id = uuid.uuid4().hex
    if settled:
        await send(live_core, Action(choice="lang:en"), user_id)
    replies = await send(live_core, Action(text=text), user_id)
    assert replies
    for reply in replies:
        assert_deliverable(reply)
        assert "<script>" not in render_html(reply)


async def test_long_unknown_command_gets_a_deliverable_reply(live_core: Core) -> None:
    """An unknown command of 10,000 emoji (a Matrix message may be that long) gets a reply
    that still fits a Matrix event."""
    replies = await send(live_core, Action(text="/" + "🙂" * 10_000), uuid.uuid4().hex)
    assert replies
    for reply in replies:
        assert_deliverable(reply)


async def test_quoted_markup_is_escaped_for_telegram(live_core: Core) -> None:
    """Markup the bot quotes back (an unknown command) reaches Telegram escaped, not as HTML."""
    replies = await send(live_core, Action(text="/<script>alert(1)</script>"), uuid.uuid4().hex)
    rendered = "\n".join(render_html(reply) for reply in replies)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert "<script>" not in rendered


@pytest.mark.parametrize(
    "choice",
    [
        "ticket:1:take",
        "topic:../../etc/passwd",
        "cat:../docs",
        "lang:xx",
        "rate:up:topic:../../etc/passwd",
        "rate:sideways:docs.pesel",
        "handoff:maybe",
        ":",
        "",
        "rate:up:ticket:9223372036854775808",  # past SQLite's integers: names no ticket
    ],
)
async def test_forged_choice_is_refused(live_core: Core, choice: str) -> None:
    """A forged or stale option id gets a deliverable reply, in the person's language."""
    replies = await send(live_core, Action(choice=choice), uuid.uuid4().hex, hint="uk")
    assert replies
    for reply in replies:
        assert_deliverable(reply)
        assert reply.language == "uk"

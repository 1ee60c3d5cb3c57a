"""Long Telegram HTML split into messages Telegram accepts, each well-formed, nothing lost."""

from __future__ import annotations

import importlib.util
import re
from html import unescape
from html.parser import HTMLParser

import pytest

from bot.adapters.telegram.rendering import render_html
from bot.adapters.telegram.splitting import fitted_parts, split_html
from bot.core.messages import Link, Option, Reply

SENTENCE = "Zameldowanie trwa zwykle kilka dni, a urząd wydaje potwierdzenie od ręki. "


class _Balance(HTMLParser):
    """Fails on a closing tag that does not close the innermost open element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open, f"</{tag}> closes nothing"
        assert self.open.pop() == tag


def assert_well_formed(part: str) -> None:
    """Tags balance, and no tag or entity is cut: no stray '<', '>' or '&' remains."""
    checker = _Balance()
    checker.feed(part)
    checker.close()
    assert checker.open == [], part
    outside_tags = re.sub(r"<[^<>]*>", "", part)
    assert "<" not in outside_tags and ">" not in outside_tags, part
    assert re.search(r"&(?!#?[0-9A-Za-z]+;)", outside_tags) is None, part


def visible(html: str) -> str:
    """What a person reads: tags removed, entities unescaped."""
    return unescape(re.sub(r"<[^<>]*>", "", html))


def squeezed(html: str) -> str:
    """The visible text without any whitespace: cuts may drop whitespace and nothing else."""
    return "".join(visible(html).split())


def assert_split_well(html: str, parts: list[str], limit: int) -> None:
    """Every part fits and is well-formed, and together they keep all the visible text."""
    for part in parts:
        assert len(part) <= limit
        assert_well_formed(part)
    assert squeezed("".join(parts)) == squeezed(html)
    for part in parts[1:]:  # cut points leave no whitespace at a part's start or end
        assert visible(part) == visible(part).lstrip()
    for part in parts[:-1]:
        assert visible(part) == visible(part).rstrip()


def test_short_message_is_one_part_unchanged() -> None:
    html = render_html(Reply(text="Tak & nie", language="pl", title="PESEL"))
    assert split_html(html) == [html]


def test_paragraphs_split_on_paragraph_boundaries() -> None:
    paragraphs = [f"{i:03} " + (SENTENCE * 5).rstrip() for i in range(27)]
    html = "\n\n".join(paragraphs)
    assert len(html) > 10_000
    parts = split_html(html)
    assert len(parts) == 3
    assert_split_well(html, parts, 4096)
    for part in parts:  # every part is whole paragraphs
        assert all(paragraph in paragraphs for paragraph in part.split("\n\n"))
    assert "\n\n".join(parts) == html


def test_single_paragraph_splits_at_sentence_ends() -> None:
    html = (SENTENCE * 140).rstrip()
    assert "\n" not in html and len(html) > 10_000
    parts = split_html(html)
    assert len(parts) == 3
    assert_split_well(html, parts, 4096)
    assert all(part.endswith(".") for part in parts)
    assert " ".join(parts) == html


def test_single_paragraph_without_full_stops_splits_at_spaces() -> None:
    html = " ".join(f"słowo{i}" for i in range(1500))
    parts = split_html(html)
    assert len(parts) == 4
    assert_split_well(html, parts, 4096)
    assert all(len(part) > 4096 - len(" słowo1499") for part in parts[:-1])  # filled up
    assert " ".join(parts) == html


def test_one_long_word_is_hard_cut_and_nothing_is_lost() -> None:
    html = "ą" * 9000
    parts = split_html(html)
    assert [len(part) for part in parts] == [4096, 4096, 808]
    assert "".join(parts) == html


def test_cut_inside_the_title_closes_and_reopens_bold() -> None:
    title = " ".join(["Karta pobytu"] * 20)
    html = render_html(Reply(text="Krótko.", language="pl", title=title))
    parts = split_html(html, limit=100)
    assert len(parts) > 2
    assert_split_well(html, parts, 100)
    assert parts[0].startswith("<b>Karta pobytu") and parts[0].endswith("</b>")
    assert parts[1].startswith("<b>") and parts[1].endswith("</b>")
    assert parts[-1].endswith("Krótko.")


def test_cut_inside_a_link_closes_and_reopens_it_with_its_href() -> None:
    url = "https://example.org/karta?lang=pl&x=1"
    label = "Urząd Wojewódzki w Krakowie, Wydział Spraw Cudzoziemców, ul. Przy Rondzie 6"
    html = render_html(Reply(text="Źródło:", language="pl", links=(Link(label, url),)))
    parts = split_html(html, limit=90)
    assert_split_well(html, parts, 90)
    opening = '<a href="https://example.org/karta?lang=pl&amp;x=1">'
    linked = [part for part in parts if opening in part]
    assert len(linked) >= 2
    assert all(part.endswith("</a>") for part in linked)
    assert all(part.startswith(opening) for part in linked[1:])


def test_entities_are_never_split() -> None:
    html = render_html(Reply(text="&" * 5000, language="pl"))
    assert html == "&amp;" * 5000 and 4096 % len("&amp;") != 0
    parts = split_html(html)
    assert all(re.fullmatch(r"(&amp;)+", part) for part in parts)
    assert "".join(parts) == html


def test_realistic_reply_splits_and_keeps_its_text() -> None:
    paragraphs = [
        f"Krok {i}: " + SENTENCE * (i % 7 + 1) + "Uwaga: <ważne> & pilne." for i in range(60)
    ]
    links = tuple(
        Link(f"Źródło nr {i} – strona urzędu", f"https://example.org/{i}?a=1&b=2") for i in range(8)
    )
    reply = Reply(
        text="\n\n".join(paragraphs), language="pl", title="Jak się zameldować?", links=links
    )
    html = render_html(reply)
    assert len(html) > 3 * 4096
    parts = split_html(html)
    assert_split_well(html, parts, 4096)
    assert parts[0].startswith("<b>Jak się zameldować?</b>\n\nKrok 0:")
    assert " ".join(visible(html).split()) == " ".join(visible("\n".join(parts)).split())


def assert_fitted_well(reply: Reply, parts: list[Reply], limit: int) -> None:
    """Each part fits one message and fits whole when fitted again; the title is on the first
    part, links and buttons on the last; together they keep all the text."""
    for part in parts:
        assert len(render_html(part)) <= limit
        assert fitted_parts(part, limit) == [part]
    assert [part.title for part in parts] == [reply.title] + [None] * (len(parts) - 1)
    assert [part.links for part in parts[:-1]] == [()] * (len(parts) - 1)
    assert [part.options for part in parts[:-1]] == [()] * (len(parts) - 1)
    assert (parts[-1].links, parts[-1].options) == (reply.links, reply.options)
    assert "".join("".join(part.text for part in parts).split()) == "".join(reply.text.split())


def test_a_long_reply_is_fitted_into_parts_that_each_fit_when_fitted_again() -> None:
    paragraphs = [
        f"Krok {i}: " + SENTENCE * (i % 7 + 1) + "Uwaga: <ważne> & pilne." for i in range(60)
    ]
    reply = Reply(
        text="\n\n".join(paragraphs),
        language="pl",
        title="Jak się zameldować?",
        links=(Link("Urząd – meldunek", "https://example.org/meldunek?a=1&b=2"),),
        options=(Option("menu", "Menu"),),
        topic_id="docs.registration",
    )
    parts = fitted_parts(reply)
    assert len(render_html(reply)) > 3 * 4096
    assert len(parts) > 3
    assert_fitted_well(reply, parts, 4096)
    assert parts[1].text.startswith("Krok ")  # cut between paragraphs
    assert {part.topic_id for part in parts} == {"docs.registration"}
    assert fitted_parts(parts[0]) == [parts[0]]


def test_a_reply_that_fits_is_its_own_only_part() -> None:
    reply = Reply("Krótko.", "pl", title="Tytuł", options=(Option("menu", "Menu"),))
    assert fitted_parts(reply) == [reply]


def test_a_limit_too_small_for_the_markup_is_refused() -> None:
    html = '<a href="https://example.org/very/long/address">x</a>' * 3
    with pytest.raises(ValueError, match="cannot hold"):
        split_html(html, limit=20)


if importlib.util.find_spec("hypothesis") is not None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    # Characters that exercise the cuts and the escaping, and any others now and then.
    _CHARS = st.one_of(st.sampled_from(list("ab .\n\n&<>\"'ą")), st.characters())
    # Short addresses, so the tightest limit still holds a reopened link and one entity.
    _LINKS = st.builds(
        Link,
        label=st.text(_CHARS, min_size=1, max_size=40),
        url=st.from_regex(r"https://ex\.org/[a-z0-9/?=-]{0,6}", fullmatch=True),
    )
    _REPLIES = st.builds(
        Reply,
        text=st.text(_CHARS, max_size=1500),
        language=st.just("pl"),
        title=st.none() | st.text(_CHARS, min_size=1, max_size=120),
        links=st.lists(_LINKS, max_size=4).map(tuple),
    )

    @settings(deadline=None)
    @given(reply=_REPLIES, limit=st.integers(min_value=50, max_value=300))
    def test_any_rendered_reply_splits_well(reply: Reply, limit: int) -> None:
        html = render_html(reply)
        parts = split_html(html, limit)
        assert_split_well(html, parts, limit)
        if len(html) <= limit:
            assert parts == [html]

    _OPTIONS = st.lists(
        st.builds(Option, id=st.just("menu"), label=st.text(min_size=1, max_size=5)), max_size=2
    ).map(tuple)

    @settings(deadline=None)
    @given(reply=_REPLIES, options=_OPTIONS, limit=st.integers(min_value=200, max_value=600))
    def test_any_reply_is_fitted_into_parts_that_fit(
        reply: Reply, options: tuple[Option, ...], limit: int
    ) -> None:
        reply = Reply(reply.text, "pl", title=reply.title, links=reply.links, options=options)
        markup = len(render_html(Reply("", "pl", title=reply.title, links=reply.links)))
        if limit - markup < limit // 4:
            return  # title and links too long for the room: a runaway no reply of ours has
        assert_fitted_well(reply, fitted_parts(reply, limit), limit)

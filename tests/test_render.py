"""Rendering fits Discord's limits every time and makes article or question text inert."""

from datetime import date

import pytest

from bot.limits import MESSAGE
from bot.render import render_answer, render_source, render_sources_page, shorten
from index.answer import FACET_CHARS_CAP, WHOLE_MESSAGE_QUOTES
from index.config import PROJECT_ROOT
from index.models import Answer, ArticleSummary, Quote, SourceRef
from index.prompts import Prompts
from index.upload import safe_name

PROMPTS = Prompts.load(PROJECT_ROOT / "prompts")
MENTIONS = ["@everyone", "@here", "<@&123456789012345678>", "<@123456789012345678>", "<@!123456789012345678>",
            "＠everyone", "@\u200beveryone"]


def quote(text: str, article: str = "a1", **extra: object) -> Quote:
    fields = {"article_id": article, "title": "T " * 200, "label": "T", "outlet": "O" * 300,
              "published": date(2020, 1, 1), "url": "https://example.com/a", "start": 0,
              "end": len(text), "score": 0.9, **extra}
    return Quote(text=text, **fields)


def embed_total(embeds) -> int:
    return sum(len(e) for e in embeds)


def check_limits(reply) -> None:
    assert len(reply.content) <= MESSAGE
    assert len(reply.embeds) <= 10 and embed_total(reply.embeds) <= 6000
    for embed in reply.embeds:
        assert len(embed.title or "") <= 256 and len(embed.description or "") <= 4096
        assert len(embed.footer.text or "") <= 2048 and len(embed.fields) <= 25


def test_the_longest_possible_answer_fits_every_limit() -> None:
    sentence = "Word " * 60 + "end. "
    quotes = [quote(sentence * 30, article=f"a{i}" * 40) for i in range(12)]
    reply = render_answer(Answer(question="Q" * 5000, abstained=False, confidence=1.0, quotes=quotes), PROMPTS)
    check_limits(reply)
    assert reply.trimmed
    for embed in reply.embeds:
        assert not embed.description.rstrip("*)").endswith("Wor")


def test_a_whole_message_answer_about_the_coverage_shows_every_quote_in_ten_embeds() -> None:
    per_quote = FACET_CHARS_CAP // WHOLE_MESSAGE_QUOTES
    outlets = ["The Independent - Life and Style", "TechCrunch", "The Verge"]
    quotes = [quote(("Word " * 80)[:per_quote - 1] + ".", article=f"mh-{i:012x}", title="A headline " * 8,
                    outlet=outlets[i * len(outlets) // WHOLE_MESSAGE_QUOTES]) for i in range(WHOLE_MESSAGE_QUOTES)]
    reply = render_answer(Answer(question="Q" * 300, abstained=False, confidence=1.0, quotes=quotes), PROMPTS)
    check_limits(reply)
    assert len(reply.embeds) == 10 and not reply.trimmed
    shown = " ".join(f"{embed.description} {embed.footer.text}" for embed in reply.embeds)
    assert all(f"id mh-{i:012x}" in shown for i in range(WHOLE_MESSAGE_QUOTES))
    assert shown.count("> Word") == WHOLE_MESSAGE_QUOTES
    shared = [embed for embed in reply.embeds if embed.footer.text.endswith(" articles")]
    assert shared and all(embed.title in outlets for embed in shared)


@pytest.mark.parametrize("mention", MENTIONS)
def test_mentions_in_articles_and_questions_are_made_inert(mention: str) -> None:
    answer = Answer(question=f"what about {mention}?", abstained=False, confidence=1.0,
                    quotes=[quote(f"Breaking: {mention} please read.")])
    reply = render_answer(answer, PROMPTS)
    rendered = reply.content + "".join((e.description or "") + (e.title or "") for e in reply.embeds)
    for raw in ("@everyone", "@here", "<@&", "<@1", "<@!"):
        assert raw not in rendered


def test_markdown_in_quotes_cannot_break_the_reply() -> None:
    reply = render_answer(Answer(question="q", abstained=False, confidence=1.0,
                                 quotes=[quote("**bold** `code` ||spoiler|| [link](http://x)")]), PROMPTS)
    description = reply.embeds[0].description
    assert "\\*\\*bold\\*\\*" in description and "\\|\\|" in description


def test_abstention_lists_closest_sources_within_the_content_limit() -> None:
    sources = [SourceRef(article_id=f"id{i}", label="L" * 500, title="T" * 500, outlet="O", url=None)
               for i in range(3)]
    reply = render_answer(Answer(question="q" * 3000, abstained=True, confidence=0.1, sources=sources), PROMPTS)
    check_limits(reply)
    assert "doesn't answer" in reply.content and reply.embeds == []


def test_abstention_says_why_and_partial_answers_say_what_is_missing() -> None:
    why = "The coverage runs from 2004-01-01 to 2005-12-31; nothing is dated 2024."
    declined = render_answer(Answer(question="Who won Euro 2024?", abstained=True, confidence=0.1, why=why), PROMPTS)
    assert why in declined.content
    quote = Quote(article_id="a", label="T", text="Spain beat England.", start=0, end=19, score=1.0)
    partial = render_answer(Answer(question="When did Spain win?", abstained=False, confidence=0.9, quotes=[quote],
                                   partial="None of the quotes gives the date asked for."), PROMPTS)
    assert "Partly answered: None of the quotes gives the date asked for." in partial.content
    check_limits(partial)


def test_shorten_cuts_at_sentence_or_word_boundaries() -> None:
    assert shorten("One two three. Four five six seven eight.", 25) == "One two three.…"
    assert shorten("alpha beta gamma delta", 15) == "alpha beta…"
    assert shorten("short", 10) == "short"


def test_source_views_fit_limits() -> None:
    summary = ArticleSummary(article_id="x" * 200, title="T" * 600, label="T", outlet="O" * 2000, chunks=3,
                             published=date(2020, 1, 1), url="https://e.com", author="A" * 3000)
    embed = render_source(summary, "text " * 5000)
    assert len(embed) <= 6000 and all(len(f.value) <= 1024 for f in embed.fields)
    page = render_sources_page([summary] * 30, 2, 10, "summary")
    assert len(page) <= 6000 and "page 3/3" in page.footer.text


@pytest.mark.parametrize(("upload", "expected"), [
    ("../../etc/passwd.md", "passwd.md"), ("..\\..\\evil.txt", "evil.txt"), (".hidden.md", "hidden.md"),
    ("a b/c d.HTML", "c-d.html"), ("/abs/path.json", "path.json"), ("..", "article"),
])
def test_uploaded_file_names_cannot_escape_the_articles_folder(upload: str, expected: str) -> None:
    assert safe_name(upload) == expected


def test_a_quotations_speaker_is_named_apart_from_the_outlet_in_the_footer() -> None:
    quote = Quote(article_id="a", label="L", outlet="RT", published=date(2019, 8, 28), text="x", start=0, end=1,
                  score=1.0, speakers=["Mike Pompeo"])
    answer = Answer(question="?", abstained=False, confidence=1.0, quotes=[quote])
    assert render_answer(answer, PROMPTS).embeds[0].footer.text.startswith("Mike Pompeo, quoted by RT · 2019-08-28")
    bare = quote.model_copy(update={"outlet": None})
    footer = render_answer(answer.model_copy(update={"quotes": [bare]}), PROMPTS).embeds[0].footer.text
    assert footer.startswith("Mike Pompeo, quoted · 2019-08-28")


def test_articles_sharing_an_embed_keep_their_speakers_and_wire_copies() -> None:
    copy = SourceRef(article_id="w", label="W", outlet="Coastal Wire", published=date(2019, 8, 29))
    quotes = [Quote(article_id=f"a{i}", label=f"Report {i}", outlet="RT", published=date(2019, 8, 28), text="x",
                    start=0, end=1, score=1.0, **({"speakers": ["Mike Pompeo"], "also_carried_by": [copy]} if i == 3
                                                  else {})) for i in range(12)]
    reply = render_answer(Answer(question="?", abstained=False, confidence=1.0, quotes=quotes), PROMPTS)
    check_limits(reply)
    shared = next(embed for embed in reply.embeds if "Report 3" in embed.description)
    assert shared.title == "RT" and len(reply.embeds) == 10
    assert "Mike Pompeo, quoted · 2019-08-28 · id a3 · also carried by Coastal Wire · 2019-08-29" in shared.description

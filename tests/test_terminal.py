"""The terminal shows an answer as a reader expects: no raw markdown on a terminal, one attribution per article."""

from __future__ import annotations

from rich.console import Console

from index.service import Newsdesk
from index.terminal import format_answer, render_answer

POMPEO = "What did Pompeo say when asked if Russia should be invited back?"


def test_plain_output_credits_each_article_once_under_its_quotes(seeds_desk: Newsdesk) -> None:
    answer = seeds_desk.ask(POMPEO)
    text = format_answer(answer, seeds_desk.prompts)
    articles = [q.article_id for q in answer.quotes]
    groups = sum(1 for i, a in enumerate(articles) if i == 0 or articles[i - 1] != a)
    assert len(articles) > groups  # two quotes of one article in a row: the case that repeated the credit
    assert text.count("  — ") == groups
    assert "**" not in text.splitlines()[0] and POMPEO in text.splitlines()[0]
    assert not any(line.endswith("> ") or line == ">" and next_ == "" for line, next_ in
                   zip(text.splitlines(), [*text.splitlines()[1:], ""], strict=True))
    for quote in answer.quotes:  # quotes stay verbatim in plain output, paragraph by paragraph
        assert all(f"> {line}" in text for line in quote.text.splitlines() if line.strip())


def test_an_untitled_article_is_credited_by_its_opening_words(seeds_desk: Newsdesk) -> None:
    answer = seeds_desk.ask("Who won Euro 2024?")
    text = format_answer(answer, seeds_desk.prompts)
    assert "[untitled:" not in text and "untitled, beginning “The British and Canadian governments" in text


def test_a_terminal_gets_the_markdown_rendered(seeds_desk: Newsdesk) -> None:
    answer = seeds_desk.ask(POMPEO)
    console = Console(force_terminal=True, width=120, record=True, color_system="truecolor")
    console.print(render_answer(answer, seeds_desk.prompts))
    shown = console.export_text()
    assert "**" not in shown and '*"Yeah' not in shown and '"Yeah, the President thinks so."' in shown
    assert "003_60249ec177c291d1" in shown

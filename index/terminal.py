"""Answers for the terminal: block quotes, the attribution once under each article's quotes.

A terminal gets them rendered by rich (the reply templates are markdown, and so is some article text as
received); a pipe gets plain text, the quotes exactly as the articles have them.
"""

from __future__ import annotations

import re
from itertools import groupby

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.text import Text

from index.models import (
    Answer,
    Article,
    ArticleSummary,
    Comparison,
    Quote,
    SourceRef,
    Timeline,
)
from index.prompts import Prompts

_EMPHASIS = re.compile(r"\*\*|__")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>#|~])")


def attribution(ref: SourceRef) -> str:
    """Outlet, “Title”, date, url: whichever are known, never invented (an untitled article by its opening)."""
    parts = [ref.outlet, f"“{ref.title}”" if ref.title else f"untitled, beginning “{ref.label}”",
             ref.published.isoformat() if ref.published else None, ref.url]
    return ", ".join(p for p in parts if p) + f"  [{ref.article_id}]"


def carriers(quote: Quote) -> str:
    """"also carried by Coastal Wire (2026-03-02), ...": the wire copies of the quoted article."""
    names = [f"{ref.outlet or ref.label}" + (f" ({ref.published.isoformat()})" if ref.published else "")
             for ref in quote.also_carried_by]
    return f"also carried by {', '.join(names)}" if names else ""


def answer_parts(answer: Answer, prompts: Prompts, question: str) -> list[tuple[str, str]]:
    """(kind, text) in order: `heading` (a template, markdown), `quote` (verbatim), `line` (plain)."""
    if answer.abstained:
        template = prompts.not_covered if answer.closest else prompts.no_sources
        parts = [("heading", template.safe_substitute(question=question))]
        parts += [("line", answer.why)] if answer.why else []
        return parts + [("line", f"  - {attribution(s)}") for s in answer.closest]
    parts = [("heading", prompts.answer_header.safe_substitute(question=question))]
    parts += [("line", f"Partly answered: {answer.partial}")] if answer.partial else []
    parts += [("line", f"No quote from {', '.join(answer.missing)}.")] if answer.missing else []
    for _, group in groupby(answer.quotes, key=lambda quote: quote.article_id):
        quotes = list(group)
        parts += [("quote", quote.text) for quote in quotes]
        said = list(dict.fromkeys(who for q in quotes for who in q.speakers))
        quoted = f"{', '.join(said)}, quoted {'by' if quotes[0].outlet else 'in'} " if said else ""
        parts.append(("line", f"  — {quoted}{attribution(quotes[0])}"))
        parts += [("line", f"  {line}") for line in [carriers(quotes[0])] if line]
    return parts + [("line", f"(confidence {answer.confidence:.2f}, {answer.elapsed_ms:.0f} ms)")]


def format_answer(answer: Answer, prompts: Prompts) -> str:
    """Plain text: the templates' emphasis marks dropped, quotes as `>` blocks, one bare `>` between paragraphs."""
    lines: list[str] = []
    for kind, text in answer_parts(answer, prompts, "\0"):
        if kind == "heading":
            lines += [_EMPHASIS.sub("", text).replace("\0", answer.question), ""]
        elif kind == "quote":
            lines += [""] if lines and lines[-1] and not lines[-1].startswith(">") else []
            lines += [f"> {line}" if line.strip() else ">" for line in text.splitlines()] + [">"]
        else:
            lines += ["", text] if lines and lines[-1].startswith(">") else [text]
    return "\n".join(_tidy(lines))


def _tidy(lines: list[str]) -> list[str]:
    """No bare `>` twice, at a block's start or at its end."""
    kept: list[str] = []
    for line in lines:
        if line == ">" and (not kept or kept[-1] in (">", "")):
            continue
        if line == "" and kept and kept[-1] == ">":
            kept[-1] = ""
            continue
        kept.append(line)
    return kept


def render_answer(answer: Answer, prompts: Prompts) -> RenderableType:
    """For a terminal: templates and quotes rendered as markdown, attributions as they are."""
    question = _MARKDOWN.sub(r"\\\1", answer.question)
    return Group(*(Markdown(text) if kind == "heading" else
                   Markdown("\n".join(f"> {line}" for line in text.splitlines())) if kind == "quote" else
                   Text(text, style="dim" if text.startswith("  ") else "")
                   for kind, text in answer_parts(answer, prompts, question)))


def format_sources(items: list[ArticleSummary]) -> str:
    rows = [f"{s.article_id:<28} {s.outlet or '-':<14} {s.published.isoformat() if s.published else '-':<10} "
            f"{s.chunks:>4}  {s.label}" for s in items]
    return "\n".join([f"{'id':<28} {'outlet':<14} {'date':<10} {'chunks':>4}  title", *rows,
                      f"{len(items)} articles"])


def format_copy_groups(groups: list[list[ArticleSummary]]) -> str:
    """Each group of wire copies under a number, one article per line."""
    lines = []
    for number, group in enumerate(groups, 1):
        lines.append(f"group {number}:")
        lines += [f"  {s.article_id:<28} {s.outlet or '-':<14} {s.published.isoformat() if s.published else '-':<10} "
                  f"{s.label}" for s in group]
    return "\n".join([*lines, f"{len(groups)} groups of copies"])


def format_source(article: Article, info: ArticleSummary) -> str:
    return "\n".join([attribution(info), f"author: {article.author or '-'}", f"chunks: {info.chunks}",
                      f"file: {article.source}", "", article.text])


def _quoted(text: str) -> list[str]:
    return [f"> {line}" if line.strip() else ">" for line in text.splitlines()]


def format_comparison(comparison: Comparison) -> str:
    """Each outlet under its own heading, its excerpts as `>` blocks; an outlet with nothing says so."""
    lines = [f"How the coverage compares on: {comparison.topic}", ""]
    for side in comparison.outlets:
        if not side.quotes:
            lines += [f"{side.outlet}: no coverage found" + (f" ({side.why})" if side.why else ""), ""]
            continue
        lines += [f"{side.outlet}:"]
        for quote in side.quotes:
            lines += [*_quoted(quote.text), f"  — {attribution(quote)}", ""]
    return "\n".join(lines).rstrip() + f"\n({comparison.elapsed_ms:.0f} ms)"


def format_timeline(timeline: Timeline) -> str:
    """Periods in order, each excerpt under its date; the earliest report marked as such."""
    if timeline.abstained:
        return f"No timeline for: {timeline.topic}\n{timeline.why or ''}".rstrip()
    earliest = timeline.earliest
    lines = [f"Timeline of the coverage: {timeline.topic} (by {timeline.by})", ""]
    for period in timeline.periods:
        lines.append(f"{period.label}:")
        for quote in period.quotes:
            mark = " (earliest report)" if quote is earliest else ""
            lines += [*_quoted(quote.text), f"  — {attribution(quote)}{mark}"]
            lines += [f"  {carriers(quote)}", ""] if quote.also_carried_by else [""]
    if timeline.undated:
        lines.append("Undated:")
        for quote in timeline.undated:
            lines += [*_quoted(quote.text), f"  — {attribution(quote)}", ""]
    return "\n".join(lines).rstrip() + f"\n({timeline.elapsed_ms:.0f} ms)"

"""Plain-text rendering for the terminal: quotes as block quotes, attribution under each."""

from __future__ import annotations

from index.models import Answer, Article, ArticleSummary, SourceRef
from index.prompts import Prompts


def attribution(ref: SourceRef) -> str:
    """Outlet, “Title”, date, url: whichever are known, never invented."""
    parts = [ref.outlet, f"“{ref.title}”" if ref.title else f"[untitled: {ref.label}]",
             ref.published.isoformat() if ref.published else None, ref.url]
    return ", ".join(p for p in parts if p) + f"  [{ref.article_id}]"


def format_answer(answer: Answer, prompts: Prompts) -> str:
    if answer.abstained:
        template = prompts.not_covered if answer.closest else prompts.no_sources
        lines = [template.safe_substitute(question=answer.question)]
        lines += [answer.why] if answer.why else []
        lines += [f"  - {attribution(s)}" for s in answer.closest]
        return "\n".join(lines)
    lines = [prompts.answer_header.safe_substitute(question=answer.question), ""]
    lines += [f"Partly answered: {answer.partial}", ""] if answer.partial else []
    for quote in answer.quotes:
        lines += [f"> {line}" for line in quote.text.splitlines()]
        lines += [f"  — {attribution(quote)}", ""]
    lines.append(f"(confidence {answer.confidence:.2f}, {answer.elapsed_ms:.0f} ms)")
    return "\n".join(lines)


def format_sources(items: list[ArticleSummary]) -> str:
    rows = [f"{s.article_id:<28} {s.outlet or '-':<14} {s.published.isoformat() if s.published else '-':<10} "
            f"{s.chunks:>4}  {s.label}" for s in items]
    return "\n".join([f"{'id':<28} {'outlet':<14} {'date':<10} {'chunks':>4}  title", *rows,
                      f"{len(items)} articles"])


def format_source(article: Article, info: ArticleSummary) -> str:
    return "\n".join([attribution(info), f"author: {article.author or '-'}", f"chunks: {info.chunks}",
                      f"file: {article.source}", "", article.text])

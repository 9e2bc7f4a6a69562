"""Plain-text rendering for the terminal: quotes as block quotes, attribution under each."""

from __future__ import annotations

from index.evaluate import EvalRun
from index.models import Answer, Article, ArticleSummary, IndexReport, SourceRef
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


def format_report(report: IndexReport) -> str:
    lines = [f"added {len(report.added)}, changed {len(report.changed)}, removed {len(report.removed)}, "
             f"unchanged {report.unchanged}, duplicates {len(report.duplicates)}, failed {len(report.failed)}; "
             f"embedded {report.chunks_embedded} of {report.chunks_total} chunks in {report.seconds:.1f} s "
             f"(generation {report.generation or 'none'})"]
    for label, ids in (("added", report.added), ("changed", report.changed), ("removed", report.removed)):
        lines += [f"  {label}: {i}" for i in ids]
    lines += [f"  duplicate: {d.source}: {d.reason}" for d in report.duplicates]
    lines += [f"  failed: {f.source}: {f.reason}" for f in report.failed]
    return "\n".join(lines)


def format_sources(items: list[ArticleSummary]) -> str:
    rows = [f"{s.article_id:<28} {s.outlet or '-':<14} {s.published.isoformat() if s.published else '-':<10} "
            f"{s.chunks:>4}  {s.label}" for s in items]
    return "\n".join([f"{'id':<28} {'outlet':<14} {'date':<10} {'chunks':>4}  title", *rows,
                      f"{len(items)} articles"])


def format_source(article: Article, info: ArticleSummary) -> str:
    return "\n".join([attribution(info), f"author: {article.author or '-'}", f"chunks: {info.chunks}",
                      f"file: {article.source}", "", article.text])


def format_eval(run: EvalRun) -> str:
    """Modes side by side, then the cost of the index."""
    columns = ["mode", "verbatim", "answer_in_quotes", "hit_at_1", "hit_at_5", "hit_at_10", "mrr_at_10",
               "abstain_offtopic", "false_abstain", "refused", "quotes_median", "quoted_chars_median",
               "latency_ms_median", "latency_ms_p95"]
    rows = [[str(getattr(f, c)) if getattr(f, c) is not None else "-" for c in columns] for f in run.modes]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows]
    lines.append(f"questions {run.modes[0].questions if run.modes else 0}; index: {run.index.chunks_total} chunks, "
                 f"{run.index.chunks_embedded} embedded in {run.index_seconds:.1f} s; "
                 f"peak memory {run.peak_memory_mb:.0f} MB; files failed {len(run.index.failed)}")
    return "\n".join(lines)

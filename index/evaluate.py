"""Answer quality on real questions, computed exactly as ../shared/eval/README.md defines it."""

from __future__ import annotations

import json
import resource
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path

from pydantic import BaseModel

from index import outlets
from index.build import Progress
from index.config import load_settings
from index.embed import Embedder
from index.errors import BadQuestion
from index.models import AbstainReason, Answer, IndexReport
from index.retrieve import Mode
from index.service import Newsdesk


class Fact(BaseModel):
    """A gold sentence a full answer should quote (MultiHop-RAG facts), with where it was published."""

    text: str
    outlet: str | None = None
    published: date | None = None
    article: str


class Question(BaseModel):
    id: str
    question: str
    answerable: bool
    answer: str | None = None
    articles: list[str] = []
    evidence: str | None = None
    asked_on: date | None = None
    kind: str | None = None
    facts: list[Fact] = []

    @property
    def gold(self) -> set[str]:
        """Seed questions name files (`000_x.txt`); the index names articles by stem."""
        return {Path(a).stem if Path(a).suffix in {".txt", ".md"} else a for a in self.articles}


class Coverage(BaseModel):
    """How much of a question's gold facts and outlets one answer quotes."""

    facts: int
    facts_quoted: int
    outlets: int
    outlets_quoted: int
    named: int
    named_quoted: int
    date_ordered: bool


class Scored(BaseModel):
    id: str
    mode: str
    answer: Answer
    answer_in_quotes: bool | None
    rank: int | None
    verbatim_ok: int
    quotes: int
    coverage: Coverage | None = None


class KindFigures(BaseModel):
    """Per question kind (comparison, temporal, inference), for questions that carry facts."""

    kind: str
    questions: int
    fact_recall: float
    all_facts: float
    outlet_recall: float
    named_outlet_recall: float
    date_order: float
    quoted_chars_median: float


class Figures(BaseModel):
    mode: str
    questions: int
    verbatim: float
    answer_in_quotes: float | None
    hit_at_1: float | None
    hit_at_5: float | None
    hit_at_10: float | None
    mrr_at_10: float | None
    abstain_offtopic: float | None
    false_abstain: float | None
    refused: int = 0
    kinds: list[KindFigures] = []
    quotes_median: float
    quoted_chars_median: float
    latency_ms_median: float
    latency_ms_p95: float


def corpus_desk(folder: Path, embedder: Embedder | None = None, **settings: object) -> Newsdesk:
    """A desk over its own data folder with no seeds, as evaluations and benchmarks need."""
    return Newsdesk(load_settings(data_dir=folder, seeds_dir=None, articles_dir=folder / "articles", **settings),
                    embedder=embedder)


def load_questions(path: Path, limit: int | None = None) -> list[Question]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [Question.model_validate_json(line) for line in lines]
    return questions[:limit] if limit else questions


def ranking(answer: Answer) -> list[str]:
    """Distinct articles the answer cites, then those it lists, in order."""
    return list(dict.fromkeys([*(q.article_id for q in answer.quotes), *(s.article_id for s in answer.sources)]))


def score(desk: Newsdesk, question: Question, answer: Answer, mode: str) -> Scored:
    generation = desk.generation()
    texts = {i: generation.article(i) for i in {q.article_id for q in answer.quotes}}
    verbatim_ok = sum(1 for q in answer.quotes
                      if texts[q.article_id] is not None and texts[q.article_id].text[q.start:q.end] == q.text)
    found = None
    if question.answerable and question.answer:
        found = question.answer.lower() in " ".join(q.text for q in answer.quotes).lower()
    rank = None
    if question.answerable and question.gold:
        rank = next((i + 1 for i, a in enumerate(ranking(answer)[:10]) if a in question.gold), 0)
    return Scored(id=question.id, mode=mode, answer=answer, answer_in_quotes=found, rank=rank,
                  verbatim_ok=verbatim_ok, quotes=len(answer.quotes), coverage=coverage(question, answer))


def _flat(text: str) -> str:
    return " ".join(text.split())


def coverage(question: Question, answer: Answer) -> Coverage | None:
    """A fact counts when a quote contains it whole; an outlet when the answer quotes one of that outlet's
    gold articles (`named`: those of them the question names, the measure of the MultiHop facts README);
    dates are in order when the quotes' publication dates never go back."""
    if not question.facts:
        return None
    quoted = [_flat(q.text) for q in answer.quotes]
    cited = {q.article_id for q in answer.quotes}
    by_outlet: dict[str, set[str]] = {}
    for fact in question.facts:
        by_outlet.setdefault(fact.outlet or fact.article, set()).add(fact.article)
    named = {o for name, _ in outlets.occurrences(question.question, list(by_outlet))
             for o in outlets.resolve(name, list(by_outlet))}
    dates = [q.published for q in answer.quotes if q.published is not None]
    return Coverage(facts=len(question.facts),
                    facts_quoted=sum(any(_flat(f.text) in q for q in quoted) for f in question.facts),
                    outlets=len(by_outlet), outlets_quoted=sum(bool(a & cited) for a in by_outlet.values()),
                    named=len(named), named_quoted=sum(bool(by_outlet[o] & cited) for o in named),
                    date_ordered=dates == sorted(dates))


def kind_figures(questions: list[Question], results: list[Scored]) -> list[KindFigures]:
    by_id = {q.id: q for q in questions}
    kinds: dict[str, list[Scored]] = {}
    for result in results:
        if result.coverage is not None:
            kinds.setdefault(by_id[result.id].kind or "all", []).append(result)
    table = []
    for kind, rows in kinds.items():
        covered = [r.coverage for r in rows if r.coverage is not None]
        table.append(KindFigures(
            kind=kind, questions=len(rows),
            fact_recall=round(sum(c.facts_quoted for c in covered) / sum(c.facts for c in covered), 4),
            all_facts=round(sum(c.facts_quoted == c.facts for c in covered) / len(covered), 4),
            outlet_recall=round(sum(c.outlets_quoted for c in covered) / sum(c.outlets for c in covered), 4),
            named_outlet_recall=round(sum(c.named_quoted for c in covered) / max(1, sum(c.named for c in covered)), 4),
            date_order=round(sum(c.date_ordered for c in covered) / len(covered), 4),
            quoted_chars_median=statistics.median(sum(len(q.text) for q in r.answer.quotes) for r in rows)))
    return table


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return round(sum(items) / len(items), 4) if items else None


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] if ordered else 0.0


def figures(mode: str, questions: list[Question], results: list[Scored]) -> Figures:
    by_id = {q.id: q for q in questions}
    answerable = [r for r in results if by_id[r.id].answerable]
    ranked = [r for r in answerable if r.rank is not None]
    offtopic = [r for r in results if not by_id[r.id].answerable]
    quotes = sum(r.quotes for r in results)
    latencies = [r.answer.elapsed_ms for r in results]
    return Figures(
        mode=mode, questions=len(results),
        verbatim=round(sum(r.verbatim_ok for r in results) / quotes, 4) if quotes else 1.0,
        answer_in_quotes=_mean(float(bool(r.answer_in_quotes)) for r in answerable if r.answer_in_quotes is not None),
        hit_at_1=_mean(float(0 < r.rank <= 1) for r in ranked),
        hit_at_5=_mean(float(0 < r.rank <= 5) for r in ranked),
        hit_at_10=_mean(float(0 < r.rank <= 10) for r in ranked),
        mrr_at_10=_mean((1.0 / r.rank if r.rank else 0.0) for r in ranked),
        abstain_offtopic=_mean(float(r.answer.abstained) for r in offtopic),
        false_abstain=_mean(float(r.answer.abstained) for r in answerable),
        refused=sum(r.answer.reason is AbstainReason.refused for r in results),
        kinds=kind_figures(questions, results),
        quotes_median=statistics.median([r.quotes for r in results]) if results else 0,
        quoted_chars_median=statistics.median([sum(len(q.text) for q in r.answer.quotes) for r in results])
        if results else 0,
        latency_ms_median=round(statistics.median(latencies), 1) if latencies else 0.0,
        latency_ms_p95=round(_percentile(latencies, 0.95), 1),
    )


class EvalRun(BaseModel):
    corpus: list[str]
    questions_file: str
    index: IndexReport
    index_seconds: float
    peak_memory_mb: float
    modes: list[Figures]


def run_eval(
    desk: Newsdesk,
    corpora: Sequence[Path],
    questions_file: Path,
    modes: Sequence[Mode],
    limit: int | None = None,
    progress: Progress | None = None,
    on_answer: Callable[[Scored], None] | None = None,
) -> EvalRun:
    """Index the corpora (reused when unchanged), then ask every question in every mode."""
    began = time.perf_counter()
    report = desk.reindex(corpora, progress=progress)
    index_seconds = time.perf_counter() - began
    questions = load_questions(questions_file, limit)
    tables = []
    for mode in modes:
        results = []
        for number, question in enumerate(questions, 1):
            try:
                answer = desk.ask(question.question, mode=mode, as_of=question.asked_on)
            except BadQuestion as exc:
                answer = refusal(question.question, exc)
            scored = score(desk, question, answer, mode.value)
            results.append(scored)
            if on_answer:
                on_answer(scored)
            if progress:
                progress(f"ask {mode.value}", number, len(questions))
        tables.append(figures(mode.value, questions, results))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return EvalRun(corpus=[str(c) for c in corpora], questions_file=str(questions_file), index=report,
                   index_seconds=round(index_seconds, 2), peak_memory_mb=round(peak, 1), modes=tables)


def refusal(question: str, error: BadQuestion) -> Answer:
    """A question the desk refuses is scored as an abstention with its reason, and the run goes on."""
    return Answer(question=question, abstained=True, confidence=0.0, reason=AbstainReason.refused,
                  why=str(error))


def write_answers(path: Path) -> Callable[[Scored], None]:
    """Each full answer with its question id and mode, one JSON line, as it is produced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("w", encoding="utf-8")

    def write(scored: Scored) -> None:
        record = {"id": scored.id, "mode": scored.mode, **json.loads(scored.answer.model_dump_json())}
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        handle.flush()

    return write


def format_eval(run: EvalRun) -> str:
    """Modes side by side, then the cost of the index."""
    columns = ["mode", "verbatim", "answer_in_quotes", "hit_at_1", "hit_at_5", "hit_at_10", "mrr_at_10",
               "abstain_offtopic", "false_abstain", "refused", "quotes_median", "quoted_chars_median",
               "latency_ms_median", "latency_ms_p95"]
    rows = [[str(getattr(f, c)) if getattr(f, c) is not None else "-" for c in columns] for f in run.modes]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows]
    for table in run.modes:
        if table.kinds:
            lines.append(f"{table.mode}: kind  questions  fact_recall  all_facts  outlet_recall  named_outlet_recall  "
                         "date_order  quoted_chars_median")
            lines += [f"  {k.kind:<12} {k.questions:>4}  {k.fact_recall:>6}  {k.all_facts:>6}  {k.outlet_recall:>6}  "
                      f"{k.named_outlet_recall:>6}  {k.date_order:>6}  {k.quoted_chars_median:>6}" for k in table.kinds]
    lines.append(f"questions {run.modes[0].questions if run.modes else 0}; index: {run.index.chunks_total} chunks, "
                 f"{run.index.chunks_embedded} embedded in {run.index_seconds:.1f} s; "
                 f"peak memory {run.peak_memory_mb:.0f} MB; files failed {len(run.index.failed)}")
    return "\n".join(lines)

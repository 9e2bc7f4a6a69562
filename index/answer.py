"""Retrieved passages -> short verbatim excerpts that answer the question, or an abstention."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from pydantic import Field

from index.answerability import Evidence, decide
from index.chunk import Span
from index.facets import Facet, Reading
from index.models import Answer, Article, Passage, Quote, SourceRef, StageConfig
from index.retrieve import RetrievalConfig
from index.store import ArticleFilter, Reader
from index.terms import content_terms

log = logging.getLogger(__name__)
# An answer about the coverage fills one Discord message: 6,000 embed characters, 2,000 of them for titles (render).
FACET_CHARS_CAP, WHOLE_MESSAGE_QUOTES = 4000, 16
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w’'&-]+|\b\d[\d,.]*\b")


def _weight(default: float, name: str, description: str) -> Any:
    return Field(default, ge=0.0, le=2.0, validation_alias=name, description=description)


class Weights(StageConfig):
    """How a sentence's score mixes its own similarity, its passage's, shared words, and new names.

    `novelty` rewards names and numbers the question does not contain: quiz-style questions ask for
    exactly such an entity ("which team?"). `recency` favours articles of the last days before the
    as-of date, and `lead` sentences near an article's start, where news states the event; those two
    only order the quotes, never decide whether to answer.
    """

    sentence: float = _weight(0.35, "quote_sentence_weight", "Weight of a sentence's own similarity to the question.")
    passage: float = _weight(0.35, "quote_passage_weight", "Weight of its passage's similarity.")
    overlap: float = _weight(0.3, "quote_overlap_weight", "Weight of the question words it shares.")
    novelty: float = _weight(0.1, "quote_novelty_weight", "Weight of names and numbers the question does not contain.")
    recency: float = _weight(0.1, "quote_recency_weight", "Lift for sentences of articles from the last "
                             "`recent_days` before the as-of date.")
    lead: float = _weight(0.1, "quote_lead_weight", "Lift for sentences near an article's start.")


class AnswerConfig(StageConfig):
    max_quotes: int = Field(4, ge=1, le=WHOLE_MESSAGE_QUOTES, description="At most this many quotes.")
    max_chars: int = Field(1500, ge=100, le=10_000, validation_alias="max_quote_chars",
                           description="All quotes together.")
    sentences: int = Field(3, ge=1, le=12, validation_alias="excerpt_sentences",
                           description="Sentences a quote first grows to around its best sentence.")
    max_sentences: int = Field(6, ge=1, le=12, validation_alias="max_excerpt_sentences",
                               description="Most sentences in one quote: character budget left over by the "
                               "other quotes carries a quote on, up to this many.")
    floor: float = Field(0.30, ge=-1.0, le=1.0, validation_alias="quote_floor",
                         description="Sentences scoring below this are never quoted.")
    margin: float = Field(0.2, ge=0.0, le=2.0, validation_alias="quote_margin",
                          description="Quotes scoring this far below the best are left out.")
    per_article: int = Field(2, ge=1, le=10, validation_alias="quotes_per_article",
                             description="Quotes one article may give.")
    sources: int = Field(10, ge=1, le=100, validation_alias="closest_sources",
                         description="Closest articles listed with an answer or an abstention.")
    coverage_quotes: int = Field(16, ge=1, le=WHOLE_MESSAGE_QUOTES, description="Quotes (and 4,000 characters) of "
                                 "an answer naming two or more outlets, days or claims: one Discord message.")
    facet_quotes: int = Field(5, ge=1, le=WHOLE_MESSAGE_QUOTES, validation_alias="facet_quotes",
                              description="Articles quoted for each outlet, day or claim a question names (beyond "
                              "its first, those within NEWSDESK_FACET_QUOTE_MARGIN; fitted: docs/evaluation.md).")
    facet_margin: float = Field(0.5, ge=0.0, le=2.0, validation_alias="facet_quote_margin",
                                description="How close to a facet's best article another must score to be "
                                "quoted for it too (0.5, fitted on MultiHop's even lines: docs/evaluation.md).")
    outlet_floor: float = Field(0.20, ge=-1.0, le=1.0, validation_alias="named_outlet_floor",
                                description="A named outlet's best sentence is quoted down to this score, below "
                                "the quote floor (0.20, fitted on MultiHop's even lines: docs/evaluation.md).")
    abstain_below: float | None = Field(None, ge=0.0, le=1.0, validation_alias="abstain_threshold",
                                        description="Abstain below this answerability (0-1); empty = the cut "
                                        "fitted with the model in index/answerability.json.")
    weights: Weights = Weights()


@dataclass(slots=True, eq=False)  # compared by identity: it holds a numpy vector
class Candidate:
    """`relevance` decides whether to answer at all; `prior` (recency, lead) only orders the quotes."""

    article_id: str
    span: Span
    relevance: float
    prior: float = 0.0
    similarity: float = 0.0
    vector: np.ndarray | None = None
    words: frozenset[str] = frozenset()
    shared: float = 0.0

    @property
    def score(self) -> float:
        return self.relevance + self.prior


def source_ref(article: Article) -> SourceRef:
    return SourceRef(article_id=article.id, title=article.title, label=article.label,
                     outlet=article.outlet, published=article.published, url=article.url)


def compose(
    question: str,
    query_vector: np.ndarray,
    passages: list[Passage],
    ranking: list[str],
    generation: Reader,
    config: AnswerConfig,
    as_of: date | None = None,
    where: ArticleFilter = ArticleFilter(),
    recent_days: int = RetrievalConfig().recent_days,
    reading: Reading = Reading(),
    facet_vectors: Sequence[np.ndarray] = (),
) -> Answer:
    """Score every sentence of the passages against the question; quote the best, fail closed.

    The quotes are chosen before the answerability decision, which reads them (does any give the kind of
    entity asked for?): those of the usual budget, even when a question about the coverage is shown a whole
    message. `sources` lists the closest articles in retrieval order (shown when abstaining).
    """
    articles = generation.articles_by_id([*ranking[: config.sources], *(p.chunk.article_id for p in passages)])
    day = as_of or date.today()
    candidates, similarities = _score_sentences(question, query_vector, passages, articles, generation,
                                                config.weights, day, recent_days)
    confidence = max((c.relevance for c in candidates), default=0.0)
    closest = [source_ref(articles[i]) for i in ranking[: config.sources]]
    facets = [(f, v) for f, v in zip(reading.facets, facet_vectors, strict=False) if f.narrowed(where) is not None]
    copies = generation.copies({c.article_id for c in candidates})
    quotes = verified(_select(candidates, articles, generation, config, facets, copies), articles, passages)
    evidence = [q.text for q in quotes]
    if len(facets) > 1:
        wide = widened(config, sum(not f.claim for f, _ in facets))
        quotes = verified(_select(candidates, articles, generation, wide, facets, copies), articles, passages)
    quotes = carried(quotes, copies, generation)
    decision = decide(Evidence(question, passages, evidence, confidence,
                               max((c.similarity for c in candidates), default=0.0), similarities, where, day,
                               [articles[p.chunk.article_id].published for p in passages],
                               recent_days),
                      generation, config.abstain_below)
    arrangement = _arrangement(reading, quotes)
    shown = arranged(quotes, reading, arrangement) if decision.answer else []
    missing = list(dict.fromkeys(f.label for f, _ in facets if not f.claim
                                 and not any(f.admits(q.outlet, q.published) for q in shown)))
    return Answer(question=question, abstained=not decision.answer, confidence=round(confidence, 4),
                  reason=decision.reason, why=decision.why, partial=decision.partial,
                  answerability=decision.answerability, quotes=shown, sources=closest,
                  arrangement=arrangement if shown else "relevance", missing=missing if decision.answer else [],
                  generation=generation.name)


def carried(quotes: list[Quote], copies: dict[str, list[str]], generation: Reader) -> list[Quote]:
    """Each quote names the other outlets that carried its article's text, with their dates, and who
    spoke the quotations inside it."""
    others = generation.articles_by_id(i for q in quotes for i in copies.get(q.article_id, ()))
    said = generation.speakers(q.article_id for q in quotes)
    return [q.model_copy(update={
        "also_carried_by": [source_ref(others[i]) for i in copies.get(q.article_id, ()) if i in others],
        "speakers": list(dict.fromkeys(who for start, end, who in said.get(q.article_id, ())
                                       if q.start <= start and end <= q.end))}) for q in quotes]


def widened(config: AnswerConfig, sides: int) -> AnswerConfig:
    """A question naming two or more outlets, days or claims asks about the coverage, not one fact: it gets
    the whole message (a few more quotes per extra facet did worse on MultiHop: docs/evaluation.md), and
    each outlet or day it names at least one quote."""
    return config.model_copy(update={"max_quotes": min(WHOLE_MESSAGE_QUOTES, max(config.coverage_quotes, sides)),
                                     "max_chars": max(config.max_chars, FACET_CHARS_CAP)})


def _score_sentences(
    question: str,
    query_vector: np.ndarray,
    passages: list[Passage],
    articles: dict[str, Article],
    generation: Reader,
    weights: Weights,
    as_of: date,
    recent_days: int,
) -> tuple[list[Candidate], list[float]]:
    """A sentence scores by its own similarity and its passage's, so it must match and sit in context. Also
    returns each passage's similarity to the question, in the passages' order."""
    if not passages:
        return [], []
    passage_vectors = generation.chunk_vectors([p.chunk.id for p in passages])
    passage_scores = dict(zip((p.chunk.id for p in passages), passage_vectors @ query_vector, strict=True))
    best_passage: dict[tuple[str, int], float] = {}
    found: dict[tuple[str, int], tuple[str, int, int, np.ndarray]] = {}
    for chunk_id, article_id, start, end, vector in generation.sentences_within([p.chunk for p in passages]):
        key = (article_id, start)
        best_passage[key] = max(best_passage.get(key, -1.0), float(passage_scores[chunk_id]))
        found.setdefault(key, (article_id, start, end, vector))
    if not found:
        return [], [float(v) for v in passage_scores.values()]
    sentence_scores = np.vstack([v for *_, v in found.values()]).astype(np.float32) @ query_vector
    terms = content_terms(question)
    asked = set(_NAME.findall(question))
    candidates = []
    for (article_id, start, end, vector), sentence in zip(found.values(), sentence_scores, strict=True):
        article = articles[article_id]
        text = article.text[start:end]
        words = frozenset(content_terms(f"{article.title or ''} {text}"))
        shared = share(terms, words)
        candidates.append(Candidate(
            article_id, Span(start, end),
            relevance=weights.sentence * float(sentence) + weights.passage * best_passage[(article_id, start)]
            + weights.overlap * shared + weights.novelty * min(1.0, len(set(_NAME.findall(text)) - asked) / 2),
            similarity=float(sentence), vector=vector, words=words, shared=shared,
            prior=weights.recency * recency(article.published, as_of, recent_days)
            + weights.lead * 1000 / (1000 + start)))
    return candidates, [float(v) for v in passage_scores.values()]


def share(terms: set[str], words: frozenset[str]) -> float:
    """Share of the question's content words found in a sentence: names the model blurs still count."""
    return len(terms & words) / len(terms) if terms else 0.0


def recency(published: date | None, as_of: date, days: int) -> float:
    """1 within `days` before the as-of date, fading to 0 over the month after."""
    if published is None:
        return 0.0
    age = (as_of - published).days
    return 1.0 if age <= days else max(0.0, 1 - (age - days) / 30)


@dataclass(slots=True)
class _Pick:
    article: Article
    spans: list[Span]
    first: int
    last: int
    score: float

    @property
    def length(self) -> int:
        return self.spans[self.last].end - self.spans[self.first].start


def _select(candidates: list[Candidate], articles: dict[str, Article], generation: Reader,
            config: AnswerConfig, facets: Sequence[tuple[Facet, np.ndarray]] = (),
            copies: dict[str, list[str]] | None = None) -> list[Quote]:
    """Best sentences first, each grown into a short excerpt; quote budget left over lengthens them.

    Each facet (an outlet, day or claim the question names) first gets its own best sentences, kept by their
    score for the facet, whatever the margin or their score for the whole question (a named report on welcome
    bonuses scores low for a question about betting lines): a comparison must quote every side it names. The
    second pass matters when few sentences clear the margin: "What did Pompeo say?" deserves the paragraph
    that follows the question, not one sentence and 1,100 unused characters.
    """
    scores = {(c.article_id, c.span.start): c.score for c in candidates}
    sentences: dict[str, list[Span]] = {}
    picks: list[_Pick] = []
    covered: set[tuple[str, int]] = set()
    seen_text: set[str] = set()
    used = 0
    ranked = sorted(candidates, key=lambda c: c.score, reverse=True)
    floor = ranked[0].score - config.margin if ranked else 0.0
    firsts = _facet_firsts(ranked, articles, facets, config)
    for candidate in [*firsts, *(c for c in ranked if c not in firsts)]:
        if len(picks) == config.max_quotes or (candidate.score < floor and candidate not in firsts):
            break
        if (candidate.relevance < config.floor and candidate not in firsts) \
                or (candidate.article_id, candidate.span.start) in covered:
            continue
        article = articles[candidate.article_id]
        if sum(p.article.id == article.id for p in picks) >= config.per_article:
            continue
        if copies and any(p.article.id in copies.get(article.id, ()) for p in picks):
            continue
        if article.id not in sentences:
            sentences[article.id] = generation.sentence_spans(article.id)
        spans = sentences[article.id]
        index = next((i for i, span in enumerate(spans) if span.start == candidate.span.start), None)
        if index is None or candidate.span.end - candidate.span.start > config.max_chars - used:
            continue
        pick = _Pick(article, spans, index, index, candidate.score)
        _grow(pick, scores, covered, min(config.sentences, config.max_sentences), config.max_chars - used,
              config.max_chars // config.max_quotes)
        key = " ".join(article.text[spans[pick.first].start:spans[pick.last].end].lower().split())
        if key in seen_text:
            continue
        seen_text.add(key)
        covered.update((article.id, span.start) for span in spans[pick.first:pick.last + 1])
        used += pick.length
        picks.append(pick)
    for pick in picks:
        before = pick.length
        _grow(pick, scores, covered, config.max_sentences, before + config.max_chars - used,
              before + config.max_chars - used, forward=True)
        covered.update((pick.article.id, span.start) for span in pick.spans[pick.first:pick.last + 1])
        used += pick.length - before
    return [_quote(pick) for pick in picks]


def _facet_firsts(ranked: list[Candidate], articles: dict[str, Article],
                  facets: Sequence[tuple[Facet, np.ndarray]], config: AnswerConfig) -> list[Candidate]:
    """Each facet's best sentences above the floor, in the order named, each from an article no other facet
    took, scored with the facet's query and words: "the TechCrunch article on X and the TechCrunch article on
    Y" quotes two articles, each where it fits best. Articles within `facet_margin` of a facet's first are
    quoted too (which close report is meant is often a toss-up); a named outlet's first needs only
    `outlet_floor`, a report named by outlet and day no score at all."""
    weights = config.weights
    asked = [(number, facet, vector, facet.terms) for number, (facet, vector) in enumerate(facets)]
    options = sorted(((c.relevance + weights.sentence * (float(c.vector @ vector) - c.similarity)
                       + weights.overlap * (share(terms, c.words) - c.shared), number, c)
                      for number, facet, vector, terms in asked for c in ranked
                      if c.vector is not None
                      and facet.admits(articles[c.article_id].outlet, articles[c.article_id].published)),
                     key=lambda option: option[0], reverse=True)
    first_floors = [float("-inf") if f.outlets and f.day else config.outlet_floor if f.outlets and not f.claim
                    else config.floor for f, _ in facets]  # a named report, a named outlet, anything else
    chosen: dict[int, list[tuple[float, Candidate]]] = {}
    taken: set[str] = set()
    for score, number, candidate in options:
        mine = chosen.setdefault(number, [])
        if score >= (config.floor if mine else first_floors[number]) and len(mine) < config.facet_quotes \
                and candidate.article_id not in taken and (not mine or score >= mine[0][0] - config.facet_margin):
            mine.append((score, candidate))
            taken.add(candidate.article_id)
    return [mine[turn][1] for turn in range(config.facet_quotes) for _, mine in sorted(chosen.items())
            if turn < len(mine)]


def _quote(pick: _Pick) -> Quote:
    start, end = pick.spans[pick.first].start, pick.spans[pick.last].end
    return Quote(text=pick.article.text[start:end], start=start, end=end, score=round(pick.score, 4),
                 **source_ref(pick.article).model_dump())


def _grow(pick: _Pick, scores: dict[tuple[str, int], float], covered: set[tuple[str, int]],
          max_sentences: int, budget: int, target: int, forward: bool = False) -> None:
    """Add the better-scoring neighbour (with `forward`, the next one while there is one), across paragraph
    breaks, until `target` chars or `max_sentences`; never into another quote's sentences. Measured on
    RealTime QA: staying inside a paragraph left half the quote budget unused (answer-in-quotes 0.55 -> 0.70
    when excerpts may cross a line break)."""
    spans, article_id = pick.spans, pick.article.id
    while pick.last - pick.first + 1 < max_sentences and pick.length < target:
        options = [(scores.get((article_id, spans[i].start), -1.0) + bonus, i)
                   for i, bonus in ((pick.first - 1, 0.0), (pick.last + 1, 1e-3))
                   if 0 <= i < len(spans) and (article_id, spans[i].start) not in covered]
        if not options:
            return
        _, i = options[-1] if forward else max(options)
        first, last = min(pick.first, i), max(pick.last, i)
        if spans[last].end - spans[first].start > budget:
            return
        pick.first, pick.last = first, last


def verified(quotes: list[Quote], articles: dict[str, Article], passages: Sequence[Passage] = ()) -> list[Quote]:
    """Fail closed: a quote leaves the core only if it is the article's text at its offsets, and the article's
    stored text still agrees with the indexed chunks it was found through (a generation whose text and
    offsets disagree is corrupt, and its quotes cannot be trusted)."""
    torn = {p.chunk.article_id for p in passages if p.chunk.article_id in articles
            and articles[p.chunk.article_id].text[p.chunk.start:p.chunk.end] != p.chunk.text}
    for article_id in sorted(torn):
        log.error("article %s: stored text disagrees with its indexed chunks; not quoting it "
                  "(rebuild with `newsdesk index --rebuild`)", article_id)
    good = []
    for quote in (q for q in quotes if q.article_id not in torn):
        article = articles.get(quote.article_id)
        if article is not None and article.text[quote.start:quote.end] == quote.text:
            good.append(quote)
        else:
            log.error("dropped a quote that is not verbatim at its offsets: %s %d-%d",
                      quote.article_id, quote.start, quote.end)
    return good


def arranged(quotes: list[Quote], reading: Reading, arrangement: str) -> list[Quote]:
    """Articles in order of their best quote, best quote first within one; in publication order (undated
    last) when the question is about order in time; by the order the question names outlets when it
    compares them."""
    best: dict[str, float] = {}
    for quote in quotes:
        best[quote.article_id] = max(best.get(quote.article_id, -1.0), quote.score)
    ordered = sorted(quotes, key=lambda q: (-best[q.article_id], q.article_id, -q.score))
    match arrangement:
        case "time":
            return sorted(ordered, key=lambda q: (q.published is None, q.published or date.min))
        case "outlets":
            named = reading.outlet_facets
            rank = {q.article_id: next((i for i, f in enumerate(named) if f.admits(q.outlet, q.published)),
                                       len(named)) for q in ordered}
            return sorted(ordered, key=lambda q: rank[q.article_id])
    return ordered


def _arrangement(reading: Reading, quotes: list[Quote]) -> str:
    if len({q.article_id for q in quotes}) < 2:
        return "relevance"
    if reading.temporal and len({q.published for q in quotes}) > 1:
        return "time"
    return "outlets" if len(reading.outlet_facets) > 1 else "relevance"

"""Hybrid retrieval: dense (FAISS) and keyword (FTS5 BM25) rankings fused by reciprocal rank."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from index.models import Passage
from index.store import ArticleFilter, Generation

_TERM = re.compile(r"\w+", re.UNICODE)
# Question words carry no topic; leaving them out keeps BM25 from rewarding "what" and "the".
STOPWORDS = frozenset("""
a about after again against all am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he
her here hers herself him himself his how i if in into is it its itself just me more most my myself
no nor not now of off on once only or other our ours out over own same she should so some such than
that the their theirs them themselves then there these they this those through to too under until up
very was we were what when where which while who whom why will with would you your yours
""".split())


class Mode(StrEnum):
    keyword = "keyword"
    dense = "dense"
    hybrid = "hybrid"


@dataclass(frozen=True, slots=True)
class RetrievalConfig:
    candidates: int = 40
    rrf_k: int = 60
    per_article: int = 3
    passages: int = 8
    mode: Mode = Mode.hybrid


def content_terms(text: str) -> set[str]:
    return {t for t in _TERM.findall(text.lower()) if t not in STOPWORDS}


def fts_query(question: str) -> str | None:
    """Quoted terms OR-ed together: FTS5 syntax in a question can never break the query."""
    terms = [t for t in dict.fromkeys(_TERM.findall(question.lower())) if t not in STOPWORDS]
    if not terms:
        terms = list(dict.fromkeys(_TERM.findall(question.lower())))
    return " OR ".join(f'"{t}"' for t in terms) or None


def retrieve(
    generation: Generation,
    question: str,
    query_vector: np.ndarray | None,
    where: ArticleFilter,
    config: RetrievalConfig,
) -> tuple[list[Passage], list[str]]:
    """Top passages (at most `per_article` from one article) and every fused article id, best first."""
    selection = generation.selection(where) if where.active else None
    dense: list[tuple[int, float]] = []
    keyword: list[tuple[int, float]] = []
    if config.mode in (Mode.dense, Mode.hybrid) and query_vector is not None:
        dense = generation.dense(query_vector, config.candidates, selection)
    if config.mode in (Mode.keyword, Mode.hybrid):
        match = fts_query(question)
        if match:
            keyword = generation.keyword(match, config.candidates, where)
    fused: dict[int, Passage] = {}
    chunks = generation.chunks(list({i for i, _ in dense} | {i for i, _ in keyword}))
    for rank, (chunk_id, score) in enumerate(dense):
        passage = fused.setdefault(chunk_id, Passage(chunks[chunk_id], 0.0))
        passage.dense, passage.dense_rank = score, rank
        passage.score += 1.0 / (config.rrf_k + rank + 1)
    for rank, (chunk_id, _) in enumerate(keyword):
        passage = fused.setdefault(chunk_id, Passage(chunks[chunk_id], 0.0))
        passage.keyword_rank = rank
        passage.score += 1.0 / (config.rrf_k + rank + 1)
    ranked = sorted(fused.values(), key=lambda p: p.score, reverse=True)
    per_article: dict[str, int] = {}
    selected: list[Passage] = []
    for passage in ranked:
        seen = per_article.get(passage.chunk.article_id, 0)
        if seen < config.per_article and len(selected) < config.passages:
            per_article[passage.chunk.article_id] = seen + 1
            selected.append(passage)
    return selected, list(dict.fromkeys(p.chunk.article_id for p in ranked))

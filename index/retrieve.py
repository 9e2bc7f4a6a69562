"""Hybrid retrieval: dense (FAISS) and keyword (tantivy BM25) rankings fused by reciprocal rank."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from enum import StrEnum

import numpy as np
from pydantic import Field

from index.facets import Facet
from index.models import Passage, StageConfig
from index.store import ArticleFilter, Reader


class Mode(StrEnum):
    keyword = "keyword"
    dense = "dense"
    hybrid = "hybrid"
    rerank = "rerank"

    @property
    def uses_dense(self) -> bool:
        return self is not Mode.keyword

    @property
    def uses_keyword(self) -> bool:
        return self is not Mode.dense


class RetrievalConfig(StageConfig):
    mode: Mode = Field(Mode.rerank, description="Default retrieval: keyword, dense, hybrid, or rerank (hybrid, "
                       "then passages lifted by their best sentence).")
    candidates: int = Field(40, ge=1, le=1000, description="Passages fetched per retriever.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    per_article: int = Field(3, ge=1, le=20, validation_alias="per_article_passages",
                             description="Passages one article may contribute.")
    passages: int = Field(8, ge=1, le=100, description="Fused passages handed to the answerer.")
    facet_passages: int = Field(12, ge=0, le=20, description="Passages searched for each outlet, day or claim a "
                                "question names (at most 8), added to the answerer's; 0 = off.")
    recent_days: int = Field(7, ge=0, le=3650, description="Also search the articles of the last N days before "
                             "the as-of date (or today) and fuse them in; 0 = off.")
    recent_weight: float = Field(0.5, ge=0.0, le=10.0, description="Weight of those recent rankings.")
    rerank_weight: float = Field(0.01, ge=0.0, le=100.0, description="In rerank mode, how much a passage's best "
                                 "sentence similarity adds to its fused score (a rank-1 hit is 1/61).")


def retrieve(
    generation: Reader,
    question: str,
    query_vector: np.ndarray | None,
    where: ArticleFilter,
    config: RetrievalConfig,
) -> tuple[list[Passage], list[str]]:
    """Top passages (at most `per_article` from one article) and every fused article id, best first.

    With `recent_days`, both rankings are taken again over the last days before the as-of date (or today)
    and join the fusion: "this week" questions are about the newest coverage, which the whole archive
    can outrank.
    """
    dense, keyword = _rankings(generation, question, query_vector, where, config)
    rankings = [("dense", dense, 1.0), ("keyword", keyword, 1.0)]
    if config.recent_days > 0:
        since = (where.as_of or date.today()) - timedelta(days=config.recent_days)
        recent = replace(where, since=max(since, where.since) if where.since else since)
        recent_keyword = generation.keyword(question, config.candidates, recent) \
            if config.mode.uses_keyword else []
        recent_dense = generation.dense(query_vector, config.candidates, generation.selection(recent)) \
            if dense and query_vector is not None else []
        rankings += [("dense", recent_dense, config.recent_weight),
                     ("keyword", recent_keyword, config.recent_weight)]
    chunks = generation.chunks(list({i for _, ranking, _ in rankings for i, _ in ranking}))
    fused: dict[int, Passage] = {}
    for kind, ranking, weight in rankings:
        for rank, (chunk_id, score) in enumerate(ranking):
            passage = fused.setdefault(chunk_id, Passage(chunks[chunk_id], 0.0))
            if kind == "dense" and passage.dense_rank is None:
                passage.dense, passage.dense_rank = score, rank
            elif kind == "keyword" and passage.keyword_rank is None:
                passage.keyword_rank = rank
            passage.score += weight / (config.rrf_k + rank + 1)
    ranked = sorted(fused.values(), key=lambda p: p.score, reverse=True)
    if config.mode is Mode.rerank and query_vector is not None:
        ranked = _reranked(generation, ranked, query_vector, config)
    per_article: dict[str, int] = {}
    selected: list[Passage] = []
    for passage in ranked:
        seen = per_article.get(passage.chunk.article_id, 0)
        if seen < config.per_article and len(selected) < config.passages:
            per_article[passage.chunk.article_id] = seen + 1
            selected.append(passage)
    return selected, list(dict.fromkeys(p.chunk.article_id for p in ranked))


def with_facets(generation: Reader, question: str, where: ArticleFilter, config: RetrievalConfig,
                passages: list[Passage], facets: Sequence[tuple[Facet, np.ndarray]]) -> list[Passage]:
    """Each named outlet's (or day's) own best passages join the question's: an outlet the question names
    must have its say even when another outlet's coverage outranks all of its passages. Each facet (an
    outlet, day or claim the question names) is searched with its own vector inside its outlets or day,
    without the recent-coverage rankings: what a question names is not about this week's news."""
    merged = list(passages)
    seen = {p.chunk.id for p in passages}
    narrow = config.model_copy(update={"passages": config.facet_passages, "recent_days": 0})
    for facet, vector in facets if config.facet_passages else []:
        narrowed = facet.narrowed(where)
        if narrowed is None:
            continue
        found, _ = retrieve(generation, question, vector, narrowed, narrow)
        merged += [p for p in found if p.chunk.id not in seen]
        seen.update(p.chunk.id for p in found)
    return merged


def _reranked(generation: Reader, ranked: list[Passage], query_vector: np.ndarray,
              config: RetrievalConfig) -> list[Passage]:
    """Lift each of the top fused passages by its best sentence's similarity to the question.

    A late-interaction reranker from the stored sentence vectors, standing in for a cross-encoder (none
    installs offline): a chunk's one vector blurs the sentence that answers. The weight is on the RRF
    scale (a rank-1 hit scores 1/61), so fusion still decides between passages of like sentences.
    """
    head = ranked[: config.candidates]
    best: dict[int, float] = {}
    for chunk_id, _, _, _, vector in generation.sentences_within([p.chunk for p in head]):
        best[chunk_id] = max(best.get(chunk_id, 0.0), float(vector.astype(np.float32) @ query_vector))
    for passage in head:
        passage.score += config.rerank_weight * best.get(passage.chunk.id, 0.0)
    return sorted(head, key=lambda p: p.score, reverse=True) + ranked[config.candidates:]


def _rankings(
    generation: Reader, question: str, query_vector: np.ndarray | None, where: ArticleFilter,
    config: RetrievalConfig,
) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """(dense, keyword) rankings of chunk ids; a mode leaves the other one empty."""
    selection = generation.selection(where) if where.active else None
    dense: list[tuple[int, float]] = []
    keyword: list[tuple[int, float]] = []
    if config.mode.uses_dense and query_vector is not None:
        dense = generation.dense(query_vector, config.candidates, selection)
    if config.mode.uses_keyword:
        keyword = generation.keyword(question, config.candidates, where)
    return dense, keyword

"""The read side on Milvus: one committed generation, every read filtered to the rows it can see.

Everything the answer path reads lives in Milvus (articles and their texts, chunks, sentence vectors,
speakers, copy groups), so any number of bot processes on any machines serve one index. Filters run inside
Milvus's searches (`filter=`), as they run inside FAISS and tantivy in the file store.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from pymilvus import MilvusClient

from index.chunk import Span
from index.errors import IndexCorrupt
from index.models import Article, Chunk, Manifest
from index.store.coverage import Coverage
from index.store.filter import ArticleFilter
from index.store.milvus.schema import (
    STRONG,
    UNDATED,
    admitted,
    both,
    lookup,
    names,
    quoted,
    scan,
    visible,
)
from index.terms import query_stems

ARTICLE_FIELDS = ["article_id", "part", "text", "title", "outlet", "url", "day", "author", "source"]


def article_from_parts(rows: Iterable[dict[str, Any]]) -> dict[str, Article]:
    """Articles from their rows (any order); part 0 holds the metadata."""
    parts: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        parts.setdefault(row["article_id"], []).append(row)
    found = {}
    for article_id, pieces in parts.items():
        pieces.sort(key=lambda row: row["part"])
        head = pieces[0]
        found[article_id] = Article(
            id=article_id, text="".join(p["text"] for p in pieces), title=head["title"], outlet=head["outlet"],
            url=head["url"], published=date.fromordinal(head["day"]) if head["day"] != UNDATED else None,
            author=head["author"], source=head["source"])
    return found


def chunk_from_row(row: dict[str, Any]) -> Chunk:
    return Chunk(row["chunk"], row["article_id"], row["ordinal"], row["start"], row["end"], row["text"])


@dataclass(frozen=True, slots=True)
class MilvusSelection:
    """The chunks a filter admits, as the expression Milvus evaluates inside a search."""

    reader: MilvusGeneration
    expression: str

    def admits(self, ranking: list[tuple[int, float]]) -> list[tuple[int, float]]:
        if not ranking:
            return []
        inside = {row["chunk"] for row in self.reader.chunk_rows(
            both(f"chunk in {quoted([i for i, _ in ranking])}", self.expression), ["chunk"])}
        return [(i, score) for i, score in ranking if i in inside]


class MilvusGeneration(Coverage):
    """A committed generation in Milvus; what it remembers (outlets, coverage, term counts) never goes stale,
    as the rows it sees never change."""

    def __init__(self, client: MilvusClient, prefix: str, number: int, manifest: Manifest,
                 paged: bool = False) -> None:
        """`paged`: a server, read in pages (schema.scan)."""
        self.client = client
        self.paged = paged
        self.collections = names(prefix)
        self.number = number
        self.manifest = manifest
        self.visible = visible(number)
        self._coverage: dict[ArticleFilter, tuple[int, date | None, date | None]] = {}
        self._frequencies: dict[str, int] = {}
        self._outlets: list[str] | None = None

    @property
    def name(self) -> str:
        return self.manifest.generation

    @property
    def needs_upgrade(self) -> bool:
        return False

    def _rows(self, kind: str, expression: str, fields: list[str], bounded: bool = True) -> list[dict[str, Any]]:
        where = both(self.visible, expression)
        if bounded:
            return lookup(self.client, self.collections[kind], where, fields)
        return list(scan(self.client, self.collections[kind], where, fields, self.paged))

    def chunk_rows(self, expression: str, fields: list[str]) -> list[dict[str, Any]]:
        return self._rows("chunks", expression, fields)

    def articles(self, where: ArticleFilter = ArticleFilter()) -> list[tuple[Article, int]]:
        rows = self._rows("articles", admitted(where), [*ARTICLE_FIELDS, "chunk_count"], bounded=False)
        counts = {row["article_id"]: row["chunk_count"] for row in rows if row["part"] == 0}
        found = sorted(article_from_parts(rows).values(), key=lambda a: a.title or "")
        found.sort(key=lambda a: a.published or date.min, reverse=True)
        return [(article, counts[article.id]) for article in found]

    def article(self, article_id: str) -> Article | None:
        return self.articles_by_id([article_id]).get(article_id)

    def articles_by_id(self, ids: Iterable[str]) -> dict[str, Article]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        return article_from_parts(self._rows("articles", f"article_id in {quoted(wanted)}", ARTICLE_FIELDS))

    def _groups(self, expression: str) -> list[dict[str, Any]]:
        return self._rows("articles", both("part == 0", 'group_id != ""', expression), ["article_id", "group_id"])

    def copies(self, ids: Iterable[str]) -> dict[str, list[str]]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        own = {row["article_id"]: row["group_id"] for row in self._groups(f"article_id in {quoted(wanted)}")}
        if not own:
            return {}
        members: dict[str, list[str]] = {}
        for row in self._groups(f"group_id in {quoted(sorted(set(own.values())))}"):
            members.setdefault(row["group_id"], []).append(row["article_id"])
        return {article: sorted(a for a in members[group] if a != article) for article, group in own.items()}

    def copy_groups(self) -> list[list[str]]:
        groups: dict[str, list[str]] = {}
        for row in self._rows("articles", both("part == 0", 'group_id != ""'), ["article_id", "group_id"],
                              bounded=False):
            groups.setdefault(row["group_id"], []).append(row["article_id"])
        return [sorted(members) for _, members in sorted(groups.items())]

    def speakers(self, ids: Iterable[str]) -> dict[str, list[tuple[int, int, str]]]:
        wanted = list(dict.fromkeys(ids))
        found: dict[str, list[tuple[int, int, str]]] = {}
        if not wanted:
            return found
        rows = self._rows("sentences", both(f"article_id in {quoted(wanted)}", 'speaker != ""'),
                          ["article_id", "start", "end", "speaker"])
        for row in sorted(rows, key=lambda r: r["start"]):
            found.setdefault(row["article_id"], []).append((row["start"], row["end"], row["speaker"]))
        return found

    def content_hashes(self) -> dict[str, tuple[str, str]]:
        return {row["article_id"]: (row["content_hash"], row["source"]) for row in self._rows(
            "articles", "part == 0", ["article_id", "content_hash", "source"], bounded=False)}

    def chunk_ids(self) -> set[int]:
        return {row["chunk"] for row in self._rows("chunks", "", ["chunk"], bounded=False)}

    def chunk_ids_of(self, article_ids: Sequence[str]) -> set[int]:
        if not article_ids:
            return set()
        return {row["chunk"] for row in self.chunk_rows(f"article_id in {quoted(list(article_ids))}", ["chunk"])}

    def sentence_vectors(self, ids: Collection[int]) -> dict[int, np.ndarray]:
        if not ids:
            return {}
        rows = self._rows("sentences", f"sentence in {quoted(list(ids))}", ["sentence", "vector"])
        return {row["sentence"]: np.asarray(row["vector"], dtype=np.float16) for row in rows}

    def sentence_spans(self, article_id: str) -> list[Span]:
        rows = self._rows("sentences", f"article_id == {quoted([article_id])[1:-1]}", ["start", "end"])
        return [Span(row["start"], row["end"]) for row in sorted(rows, key=lambda r: r["start"])]

    def sentences_within(self, chunks: Sequence[Chunk]) -> list[tuple[int, str, int, int, np.ndarray]]:
        """As the file store's: (chunk id, article id, start, end, vector) per sentence inside each chunk; only
        those sentences' vectors are read (one query, one range per chunk)."""
        if not chunks:
            return []
        inside = " or ".join(f"(article_id == {quoted([c.article_id])[1:-1]} and start >= {c.start} and "
                             f"start < {c.end} and end <= {c.end})" for c in chunks)
        rows = self._rows("sentences", inside, ["article_id", "start", "end", "vector"])
        by_article: dict[str, list[dict[str, Any]]] = {}
        for row in sorted(rows, key=lambda r: r["start"]):
            by_article.setdefault(row["article_id"], []).append(row)
        return [(chunk.id, chunk.article_id, row["start"], row["end"], np.asarray(row["vector"], dtype=np.float16))
                for chunk in chunks for row in by_article.get(chunk.article_id, ())
                if chunk.start <= row["start"] < chunk.end and row["end"] <= chunk.end]

    def chunks(self, ids: Sequence[int]) -> dict[int, Chunk]:
        if not ids:
            return {}
        rows = self.chunk_rows(f"chunk in {quoted(list(ids))}",
                               ["chunk", "article_id", "ordinal", "start", "end", "text"])
        return {row["chunk"]: chunk_from_row(row) for row in rows}

    def selection(self, where: ArticleFilter) -> MilvusSelection:
        return MilvusSelection(self, admitted(where))

    def dense(self, query: np.ndarray, k: int, selection: MilvusSelection | None = None) -> list[tuple[int, float]]:
        expression = both(self.visible, selection.expression if selection else "")
        found = self.client.search(self.collections["chunks"], data=[np.asarray(query, dtype=np.float32).tolist()],
                                   anns_field="dense", limit=k, filter=expression, output_fields=["chunk"],
                                   search_params={"metric_type": "IP"}, consistency_level=STRONG)
        return [(int(hit["entity"]["chunk"]), float(hit["distance"])) for hit in found[0]]

    def chunk_vectors(self, ids: list[int]) -> np.ndarray:
        if not ids:
            return np.zeros((0, self.manifest.dimension), np.float32)
        rows = {row["chunk"]: row["dense"] for row in self.chunk_rows(f"chunk in {quoted(ids)}", ["chunk", "dense"])}
        return np.asarray([rows[i] for i in ids], dtype=np.float32)

    def keyword(self, question: str, k: int, where: ArticleFilter = ArticleFilter()) -> list[tuple[int, float]]:
        """Milvus's BM25 over the chunks' stems (title and text, as embedded), inside the filter. Milvus Lite
        reports BM25 as a negative distance, a server as a positive score: the order is Milvus's either way."""
        stems = query_stems(question)
        if not stems:
            return []
        found = self.client.search(self.collections["chunks"], data=[" ".join(stems)], anns_field="sparse", limit=k,
                                   filter=both(self.visible, admitted(where)), output_fields=["chunk"],
                                   search_params={"metric_type": "BM25"}, consistency_level=STRONG)
        return [(int(hit["entity"]["chunk"]), abs(float(hit["distance"]))) for hit in found[0]]

    def outlets(self) -> list[str]:
        if self._outlets is None:
            rows = self._rows("articles", "part == 0", ["outlet"], bounded=False)
            self._outlets = sorted({row["outlet"] for row in rows if row["outlet"] is not None})
        return list(self._outlets)

    def _coverage_of(self, where: ArticleFilter) -> tuple[int, date | None, date | None]:
        days = [row["day"] for row in self._rows("articles", both("part == 0", admitted(where)), ["day"],
                                                 bounded=False)]
        dated = [d for d in days if d != UNDATED]
        return len(days), date.fromordinal(min(dated)) if dated else None, date.fromordinal(max(dated)) if dated else None

    def document_frequencies(self, stems: Collection[str]) -> dict[str, int]:
        """Chunks holding each stem, as the writers counted them (the terms collection)."""
        wanted = sorted(s for s in stems if s not in self._frequencies)
        if wanted:
            if len(self._frequencies) > 200_000:
                self._frequencies.clear()
            found = {row["stem"]: int(row["chunks"])
                     for row in self._rows("terms", f"stem in {quoted(wanted)}", ["stem", "chunks"])}
            self._frequencies.update({stem: found.get(stem, 0) for stem in wanted})
        return {stem: self._frequencies[stem] for stem in stems}

    def count(self, kind: str, expression: str = "") -> int:
        return int(self._rows(kind, expression, ["count(*)"])[0]["count(*)"])

    def verify(self) -> None:
        """Rows this generation sees == its manifest's counts; raises IndexCorrupt otherwise."""
        articles, chunks = self.count("articles", "part == 0"), self.count("chunks")
        if (articles, chunks) != (self.manifest.articles, self.manifest.chunks):
            raise IndexCorrupt(f"generation {self.name} is inconsistent: manifest says {self.manifest.articles} "
                               f"articles and {self.manifest.chunks} chunks, Milvus has {articles} and {chunks}")

    def close(self) -> None:
        """The client belongs to the store."""

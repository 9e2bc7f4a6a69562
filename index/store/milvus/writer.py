"""The write side on Milvus: the next generation's rows, written beside the live one's, committed by one insert.

Generation n writes rows born n and marks removed rows died n (a partial upsert of one field); readers of
n-1 see neither change. `commit` inserts n's manifest row: until that single insert lands, n does not
exist for any reader, and after it every reader that looks sees all of n. A writer that dies before it
leaves rows no reader sees; the next writer deletes them and revives what it had marked (`repair`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from pymilvus import MilvusClient

from index import copies
from index.chunk import embedding_text
from index.models import Article, Chunk, Manifest
from index.store.milvus.reader import MilvusGeneration
from index.store.milvus.schema import (
    ALIVE,
    PLACEHOLDER,
    TEXT_PART,
    both,
    day,
    generation_name,
    key,
    names,
    quoted,
    scan,
    visible,
)
from index.terms import stems

_INSERT_ROWS = 500
DATA = ("articles", "chunks", "sentences", "terms")

# Milvus collections' layout; apart from the file store's format (store/writer.py). 4: the terms collection.
FORMAT_VERSION = 4


def band_keys(values: np.ndarray) -> list[int]:
    """One signed 64-bit key per LSH band with the band's position in it, so `array_contains_any` matches a
    band only at its own position (copies.bands keeps the position in a column instead)."""
    return [(((h + 2**63) * 64 + band) % 2**64) - 2**63 for band, h in copies.bands(values)]


class MilvusWriter:
    """Writes generation `number`; nothing is visible until `commit`."""

    def __init__(self, client: MilvusClient, prefix: str, number: int, dimension: int, rebuild: bool,
                 paged: bool) -> None:
        self.client = client
        self.prefix = prefix
        self.collections = names(prefix)
        self.paged = paged
        self.dimension = dimension
        self.number = number
        self.visible = visible(number)
        self._vectors: dict[int, np.ndarray] = {}
        self._touched: set[str] = set()
        self._frequencies: Counter[str] = Counter()  # chunks gained (or lost) per stem in this generation
        self._repair(number - 1)
        if rebuild:
            for kind in DATA:
                self._kill(kind, "")

    def _rows(self, kind: str, expression: str, fields: list[str]) -> list[dict[str, Any]]:
        return list(scan(self.client, self.collections[kind], both(self.visible, expression), fields, self.paged))

    def _repair(self, live: int) -> None:
        """Undo a writer that died (rows born after the live generation, marks made after it) and drop rows no
        generation from the one before the live one on can see."""
        for kind in DATA:
            collection = self.collections[kind]
            self.client.delete(collection, filter=f"born > {live} or died < {live}")
            marked = [row["pk"] for row in scan(self.client, collection, f"died > {live} and died < {ALIVE}", ["pk"],
                                                self.paged)]
            self._mark(kind, marked, ALIVE)
        self.client.delete(self.collections["generations"], filter=f"born < {live - 1}")

    def _mark(self, kind: str, keys: list[Any], died: int) -> None:
        for start in range(0, len(keys), _INSERT_ROWS):
            self.client.upsert(self.collections[kind], [{"pk": k, "died": died} for k in keys[start:start + _INSERT_ROWS]],
                               partial_update=True)

    def _kill(self, kind: str, expression: str, fields: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Remove the matching rows from this generation (the live one keeps them); returns them with `fields`."""
        rows = self._rows(kind, expression, ["pk", "born", *fields])
        self._mark(kind, [row["pk"] for row in rows if row["born"] < self.number], self.number)
        fresh = [row["pk"] for row in rows if row["born"] == self.number]
        if fresh:
            self.client.delete(self.collections[kind], ids=fresh)
        return rows

    def _insert(self, kind: str, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), _INSERT_ROWS):
            self.client.insert(self.collections[kind], rows[start:start + _INSERT_ROWS])

    def remove_articles(self, article_ids: Sequence[str], keep_vectors: Collection[int] = frozenset()) -> None:
        """Remove articles with their chunks and sentences; vectors in `keep_vectors` are kept for re-added chunks."""
        if not article_ids:
            return
        among = f"article_id in {quoted(list(article_ids))}"
        self._touched |= set(article_ids) | self._group_members(among)
        for row in self._kill("chunks", among, ["chunk", "dense", "terms"]):
            self._frequencies.subtract(set(row["terms"].split()))
            if row["chunk"] in keep_vectors:
                self._vectors[row["chunk"]] = np.asarray(row["dense"], dtype=np.float32)
        self._kill("articles", among)
        self._kill("sentences", among)

    def _group_members(self, expression: str) -> set[str]:
        groups = {row["group_id"] for row in self._rows("articles", both("part == 0", 'group_id != ""', expression),
                                                         ["group_id"])}
        if not groups:
            return set()
        return {row["article_id"] for row in self._rows("articles", f"part == 0 and group_id in {quoted(sorted(groups))}",
                                                         ["article_id"])}

    def add_article(self, article: Article, chunks: Sequence[Chunk],
                    sentences: Sequence[tuple[int, int, int, np.ndarray]] = (),
                    speakers: Sequence[tuple[int, int, str]] = ()) -> None:
        """As the file store's: `sentences` are (id, start, end, vector), `speakers` (start, end, name)."""
        n, outlet_key, published = self.number, (article.outlet or "").lower(), day(article.published)
        values = copies.signature(article.text)
        parts = [article.text[i:i + TEXT_PART] for i in range(0, len(article.text), TEXT_PART)] or [""]
        head = {"title": article.title, "outlet": article.outlet, "url": article.url, "author": article.author,
                "source": article.source, "content_hash": article.content_hash, "text_hash": article.text_hash,
                "chunk_count": len(chunks), "group_id": "",
                "signature": [] if values is None else values.astype(np.int64).tolist(),
                "bands": [] if values is None else band_keys(values)}
        blank: dict[str, Any] = {"title": None, "outlet": None, "url": None, "author": None, "source": "", "content_hash": "",
                 "text_hash": "", "chunk_count": 0, "group_id": "", "signature": [], "bands": []}
        self._insert("articles", [
            {"pk": f"{article.id}\x1f{n}\x1f{number}", "born": n, "died": ALIVE, "article_id": article.id,
             "part": number, "text": text, "outlet_key": outlet_key, "day": published, "placeholder": PLACEHOLDER,
             **(head if number == 0 else blank)} for number, text in enumerate(parts)])
        terms = [stems(embedding_text(article, c.text)) for c in chunks]
        for held in terms:
            self._frequencies.update(set(held))
        self._insert("chunks", [
            {"pk": key(c.id, n), "born": n, "died": ALIVE, "chunk": c.id, "article_id": article.id,
             "ordinal": c.ordinal, "start": c.start, "end": c.end, "day": published, "outlet_key": outlet_key,
             "text": c.text, "terms": " ".join(held), "dense": self._vectors.pop(c.id).tolist()}
            for c, held in zip(chunks, terms, strict=True)])
        said = {(start, end): who for start, end, who in speakers}
        self._insert("sentences", [
            {"pk": key("sentence", i, n), "born": n, "died": ALIVE, "sentence": i, "article_id": article.id,
             "start": start, "end": end, "speaker": said.get((start, end), ""),
             "vector": np.asarray(vector, dtype=np.float16).astype(np.float32).tolist()}
            for i, start, end, vector in sentences])
        self._touched.add(article.id)

    def add_vectors(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        self._vectors.update(zip(ids, np.asarray(vectors, dtype=np.float32), strict=True))

    def _regroup(self) -> None:
        """Copy groups of the touched articles, recomputed (index/copies.py) over this generation's rows; an
        article whose group changes gets a new row in this generation, so the live one keeps its old group."""
        heads: dict[str, dict[str, Any]] = {}

        def head(article_id: str) -> dict[str, Any] | None:
            if article_id not in heads:
                found = self._rows("articles", f"part == 0 and article_id == {quoted([article_id])[1:-1]}", ["*"])
                heads[article_id] = found[0] if found else {}
            return heads[article_id] or None

        def signature_of(article_id: str) -> np.ndarray | None:
            row = head(article_id)
            return np.asarray(row["signature"], dtype=np.uint32) if row and row["signature"] else None

        def candidates_of(article_id: str) -> list[str]:
            row = head(article_id)
            if not row or not row["bands"]:
                return []
            return [r["article_id"] for r in self._rows(
                "articles", f"part == 0 and array_contains_any(bands, {quoted(row['bands'])}) and "
                f"article_id != {quoted([article_id])[1:-1]}", ["article_id"])]

        for cleared, component in copies.components(self._touched, signature_of, candidates_of):
            group = min(component) if len(component) > 1 else ""
            for article_id in sorted(cleared):
                row = head(article_id)
                if row is not None and row["group_id"] != group:
                    self._regrouped(row, group)

    def _regrouped(self, row: dict[str, Any], group: str) -> None:
        if row["born"] == self.number:
            self.client.upsert(self.collections["articles"], [{"pk": row["pk"], "group_id": group}],
                               partial_update=True)
            return
        self._mark("articles", [row["pk"]], self.number)
        fresh = {**row, "pk": f"{row['article_id']}\x1f{self.number}\x1f0", "born": self.number, "died": ALIVE,
                 "group_id": group}
        self._insert("articles", [fresh])

    def _count_terms(self) -> None:
        """Each stem whose chunk count changed gets a new row in this generation (the live one keeps its own)."""
        changed = sorted(stem for stem, delta in self._frequencies.items() if delta)
        for start in range(0, len(changed), _INSERT_ROWS):
            part = changed[start:start + _INSERT_ROWS]
            old = {row["stem"]: row["chunks"] for row in self._kill("terms", f"stem in {quoted(part)}",
                                                                      ["stem", "chunks"])}
            totals = {stem: old.get(stem, 0) + self._frequencies[stem] for stem in part}
            self._insert("terms", [
                {"pk": f"{stem}\x1f{self.number}", "born": self.number, "died": ALIVE, "stem": stem,
                 "chunks": total, "placeholder": PLACEHOLDER} for stem, total in totals.items() if total > 0])
        self._frequencies.clear()

    def commit(self, manifest_fields: dict[str, object]) -> Manifest:
        """Regroup copies, count terms, then insert the manifest row: the one write that makes this generation
        live."""
        self._regroup()
        self._count_terms()
        reader = MilvusGeneration(self.client, self.prefix, self.number,
                                  Manifest.model_construct(), self.paged)
        for kind in DATA:
            self.client.flush(self.collections[kind])
        manifest = Manifest(format_version=FORMAT_VERSION, dimension=self.dimension,
                            articles=reader.count("articles", "part == 0"), chunks=reader.count("chunks"),
                            vectors="milvus", built_at=datetime.now(UTC), generation=generation_name(self.number),
                            **manifest_fields)  # type: ignore[arg-type]
        self.client.insert(self.collections["generations"], [
            {"pk": self.number, "born": self.number, "died": ALIVE, "manifest": manifest.model_dump_json(),
             "placeholder": PLACEHOLDER}])
        self.client.flush(self.collections["generations"])
        return manifest

    def abort(self) -> None:
        """Best effort: whatever stays behind is removed by the next writer's repair."""
        for kind in DATA:
            self.client.delete(self.collections[kind], filter=f"born == {self.number}")

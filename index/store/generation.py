"""The read side: one loaded, never-changing generation (FAISS vectors + SQLite records + manifest)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import faiss
import numpy as np

from index import vectors as vector_index
from index.chunk import Span
from index.errors import IndexCorrupt
from index.models import Article, Chunk, Manifest
from index.store import versions
from index.store.coverage import Coverage
from index.store.disk import connect
from index.store.filter import ArticleFilter
from index.store.keywords import FOLDER as KEYWORDS
from index.store.keywords import KeywordIndex
from index.terms import query_stems


def _article_from_row(row: sqlite3.Row) -> Article:
    return Article(
        id=row["id"], text=row["text"], title=row["title"], outlet=row["outlet"], url=row["url"],
        published=date.fromisoformat(row["published"]) if row["published"] else None,
        author=row["author"], source=row["source"],
    )


def _chunk_from_row(row: sqlite3.Row) -> Chunk:
    return Chunk(row["id"], row["article_id"], row["ordinal"], row["start"], row["end"], row["text"])


class Generation(Coverage):
    """A loaded, read-only generation; safe to share between threads (one SQLite connection each)."""

    def __init__(self, path: Path, manifest: Manifest, vectors: faiss.Index, nprobe: int = 32,
                 database: Path | None = None) -> None:
        """`database`: the lineage file this generation's rows live in (format 4); else its own meta.sqlite."""
        self.path = path
        self.database = database or path / "meta.sqlite"
        self.manifest = manifest
        self.vectors = vectors
        self.nprobe = nprobe
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._coverage: dict[ArticleFilter, tuple[int, date | None, date | None]] = {}
        self.keywords = KeywordIndex(path / KEYWORDS) if (path / KEYWORDS).is_dir() else None
        self._outlets: list[str] | None = None
        self._db.execute("SELECT 1 FROM articles LIMIT 1")

    @property
    def _db(self) -> sqlite3.Connection:
        connection = getattr(self._local, "db", None)
        if connection is None:
            connection = self._local.db = connect(self.database, readonly=True)
            if self.manifest.sequence:
                versions.show(connection, self.manifest.sequence)
            with self._connections_lock:
                self._connections.append(connection)
        return connection

    @property
    def name(self) -> str:
        return self.manifest.generation

    @contextmanager
    def _cursor(self) -> Iterator[sqlite3.Cursor]:
        cursor = self._db.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    def articles(self, where: ArticleFilter = ArticleFilter()) -> list[tuple[Article, int]]:
        clause, params = where.sql()
        with self._cursor() as cur:
            rows = cur.execute(
                f"SELECT a.*, (SELECT count(*) FROM chunks c WHERE c.article_id = a.id) AS n "
                f"FROM articles a WHERE {clause} ORDER BY a.published DESC, a.title", params
            ).fetchall()
        return [(_article_from_row(row), row["n"]) for row in rows]

    def article(self, article_id: str) -> Article | None:
        with self._cursor() as cur:
            row = cur.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        return _article_from_row(row) if row else None

    def articles_by_id(self, ids: Iterable[str]) -> dict[str, Article]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        with self._cursor() as cur:
            rows = cur.execute(
                f"SELECT * FROM articles WHERE id IN ({','.join('?' * len(wanted))})", wanted
            ).fetchall()
        return {row["id"]: _article_from_row(row) for row in rows}

    def copies(self, ids: Iterable[str]) -> dict[str, list[str]]:
        """article id -> the other articles carrying the same or nearly the same text (wire copies)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        found: dict[str, list[str]] = {}
        with self._cursor() as cur:
            try:
                rows = cur.execute(
                    f"SELECT g1.article_id, g2.article_id FROM copy_groups g1 JOIN copy_groups g2 "
                    f"ON g1.group_id = g2.group_id AND g1.article_id != g2.article_id "
                    f"WHERE g1.article_id IN ({','.join('?' * len(wanted))}) ORDER BY g2.article_id", wanted
                ).fetchall()
            except sqlite3.OperationalError:  # a generation written before copies were detected
                return {}
        for own, other in rows:
            found.setdefault(own, []).append(other)
        return found

    def copy_groups(self) -> list[list[str]]:
        """Every group of wire copies, as article ids."""
        groups: dict[str, list[str]] = {}
        with self._cursor() as cur:
            try:
                rows = cur.execute("SELECT group_id, article_id FROM copy_groups ORDER BY group_id, article_id")
                for group, article_id in rows:
                    groups.setdefault(group, []).append(article_id)
            except sqlite3.OperationalError:  # a generation written before copies were detected
                return []
        return list(groups.values())

    def speakers(self, ids: Iterable[str]) -> dict[str, list[tuple[int, int, str]]]:
        """article id -> (start, end, speaker) of its sentences whose quotation names who said it."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, list[tuple[int, int, str]]] = {}
        if not wanted:
            return found
        with self._cursor() as cur:
            try:
                rows = cur.execute(f'SELECT article_id, start, "end", speaker FROM speakers WHERE article_id IN '
                                   f"({','.join('?' * len(wanted))}) ORDER BY start", wanted).fetchall()
            except sqlite3.OperationalError:  # a generation written before speakers were found
                return found
        for article_id, start, end, speaker in rows:
            found.setdefault(article_id, []).append((start, end, speaker))
        return found

    def content_hashes(self) -> dict[str, tuple[str, str]]:
        """article id -> (content hash, source file), to decide what a re-index must touch."""
        with self._cursor() as cur:
            return {r[0]: (r[1], r[2]) for r in cur.execute("SELECT id, content_hash, source FROM articles")}

    def chunk_ids(self) -> set[int]:
        with self._cursor() as cur:
            return {r[0] for r in cur.execute("SELECT id FROM chunks")}

    def chunk_ids_of(self, article_ids: Sequence[str]) -> set[int]:
        if not article_ids:
            return set()
        with self._cursor() as cur:
            return {r[0] for r in cur.execute(
                f"SELECT id FROM chunks WHERE article_id IN ({','.join('?' * len(article_ids))})",
                list(article_ids))}

    def sentence_vectors(self, ids: Collection[int]) -> dict[int, np.ndarray]:
        """Stored sentence vectors by id, so a changed article re-embeds only sentences that changed."""
        if not ids:
            return {}
        with self._cursor() as cur:
            rows = cur.execute(f"SELECT id, vector FROM sentences WHERE id IN ({','.join('?' * len(ids))})",
                               list(ids)).fetchall()
        return {row[0]: np.frombuffer(row[1], dtype=np.float16) for row in rows}

    def sentence_spans(self, article_id: str) -> list[Span]:
        """The article's sentences as split at index time, so answering never re-runs the splitter."""
        with self._cursor() as cur:
            return [Span(start, end) for start, end in cur.execute(
                'SELECT start, "end" FROM sentences WHERE article_id = ? ORDER BY start', (article_id,))]

    def sentences_within(self, chunks: Sequence[Chunk]) -> list[tuple[int, str, int, int, np.ndarray]]:
        """(chunk id, article id, start, end, vector) of every sentence inside each chunk, in the chunks'
        order; a sentence shared by overlapping chunks comes once per chunk. One query, its index range
        bounded on both ends: the reranker asks for 40 chunks per question (0.4 ms; 6 ms when the range
        ran on to the article's end)."""
        if not chunks:
            return []
        order = {chunk.id: i for i, chunk in enumerate(chunks)}
        with self._cursor() as cur:
            rows = cur.execute(
                'SELECT c.id, s.article_id, s.start, s."end", s.vector FROM chunks c JOIN sentences s '
                'ON s.article_id = c.article_id AND s.start >= c.start AND s.start < c."end" '
                'AND s."end" <= c."end" '
                f"WHERE c.id IN ({','.join('?' * len(order))})", list(order)).fetchall()
        rows.sort(key=lambda row: (order[row[0]], row[2]))
        return [(chunk_id, article_id, start, end, np.frombuffer(vector, dtype=np.float16))
                for chunk_id, article_id, start, end, vector in rows]

    def chunks(self, ids: Sequence[int]) -> dict[int, Chunk]:
        if not ids:
            return {}
        with self._cursor() as cur:
            rows = cur.execute(
                f"SELECT * FROM chunks WHERE id IN ({','.join('?' * len(ids))})", list(ids)
            ).fetchall()
        return {row["id"]: _chunk_from_row(row) for row in rows}

    def selection(self, where: ArticleFilter) -> vector_index.Selection:
        """The chunks `where` admits, as ids to keep or, when fewer, ids to skip: a filter admitting 90 %
        of 1M chunks would otherwise rebuild a 900k-id set for every question. The side is chosen on the
        small articles table, and only its chunks are read, through the article index."""
        clause, params = where.sql()
        inside = f"coalesce(({clause}), 0) != 0"
        with self._cursor() as cur:
            admitted, total = cur.execute(f"SELECT sum({inside}), count(*) FROM articles a", params).fetchone()
            skip = (admitted or 0) > total / 2
            rows = cur.execute(f"SELECT id FROM chunks WHERE article_id IN (SELECT a.id FROM articles a WHERE "
                               f"{'NOT ' if skip else ''}({inside}))", params).fetchall()
        return vector_index.Selection(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)), skip)

    def dense(self, query: np.ndarray, k: int,
              selection: vector_index.Selection | None = None) -> list[tuple[int, float]]:
        return vector_index.search(self.vectors, query, k, selection, self.nprobe)

    def chunk_vectors(self, ids: list[int]) -> np.ndarray:
        return vector_index.reconstruct(self.vectors, ids)

    def keyword(self, question: str, k: int, where: ArticleFilter = ArticleFilter()) -> list[tuple[int, float]]:
        """BM25 over the chunks (title and text) holding the question's words, inside the filter."""
        return self._keywords.search(query_stems(question), k, where)

    @property
    def needs_upgrade(self) -> bool:
        """Written in its own SQLite file (formats 2 and 3, no generation number) or before keyword search had
        its folder (format 2): the next re-index carries it into a lineage file."""
        return self.keywords is None or not self.manifest.sequence

    @property
    def _keywords(self) -> KeywordIndex:
        if self.keywords is None:  # only a re-index loads a generation written before the keyword folder
            raise IndexCorrupt(f"generation {self.name} has no keyword index; run `newsdesk index`")
        return self.keywords

    def outlets(self) -> list[str]:
        if self._outlets is None:
            with self._cursor() as cur:
                self._outlets = [r[0] for r in cur.execute(
                    "SELECT DISTINCT outlet FROM articles WHERE outlet IS NOT NULL ORDER BY outlet")]
        return list(self._outlets)

    def _coverage_of(self, where: ArticleFilter) -> tuple[int, date | None, date | None]:
        clause, params = where.sql()
        with self._cursor() as cur:
            count, low, high = cur.execute(
                f"SELECT count(*), min(published), max(published) FROM articles a WHERE {clause}", params
            ).fetchone()
        return int(count), date.fromisoformat(low) if low else None, date.fromisoformat(high) if high else None

    def document_frequencies(self, stems: Collection[str]) -> dict[str, int]:
        """Chunks holding each stem (index/terms.py), from the keyword index's term dictionary."""
        return self._keywords.frequencies(stems)

    def verify(self) -> None:
        """FAISS ids == SQLite chunk ids == manifest counts; raises IndexCorrupt otherwise."""
        faiss_ids = set(vector_index.ids(self.vectors).tolist())
        with self._cursor() as cur:
            articles = cur.execute("SELECT count(*) FROM articles").fetchone()[0]
            orphans = cur.execute(
                "SELECT count(*) FROM chunks c LEFT JOIN articles a ON a.id = c.article_id WHERE a.id IS NULL"
            ).fetchone()[0]
        sql_ids = self.chunk_ids()
        keyword_rows = self._keywords.count
        problems = []
        if faiss_ids != sql_ids:
            problems.append(f"{len(faiss_ids ^ sql_ids)} chunk ids differ between FAISS and SQLite")
        if len(sql_ids) != self.manifest.chunks or keyword_rows != self.manifest.chunks:
            problems.append(f"manifest says {self.manifest.chunks} chunks, SQLite has {len(sql_ids)}, "
                            f"keyword index {keyword_rows}")
        if articles != self.manifest.articles:
            problems.append(f"manifest says {self.manifest.articles} articles, SQLite has {articles}")
        if orphans:
            problems.append(f"{orphans} chunks without an article")
        if problems:
            raise IndexCorrupt(f"generation {self.name} is inconsistent: {'; '.join(problems)}")

    def close(self) -> None:
        with self._connections_lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()


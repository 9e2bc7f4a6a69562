"""Index generations on disk: FAISS vectors + SQLite records + manifest, switched atomically.

Layout of the data directory::

    CURRENT                 name of the live generation (replaced with os.replace)
    generations/<name>/     manifest.json, meta.sqlite, vectors.faiss
    reindex.lock            held while a re-index writes

A writer copies the live generation into a new folder, applies changes, fsyncs, and only then
points CURRENT at it, so a crash at any moment leaves the old or the new generation, never a mix.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import faiss
import numpy as np

from index.chunk import Span, embedding_text
from index.errors import IndexCorrupt, IndexMismatch, IndexNotFound, ReindexBusy
from index import vectors as vector_index
from index.models import Article, Chunk, Manifest

FORMAT_VERSION = 2
KEEP_GENERATIONS = 2
SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY, title TEXT, outlet TEXT, url TEXT, published TEXT, author TEXT,
    source TEXT NOT NULL, content_hash TEXT NOT NULL, text_hash TEXT NOT NULL, text TEXT NOT NULL
);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE INDEX chunks_by_article ON chunks(article_id);
CREATE TABLE sentences (
    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, vector BLOB NOT NULL
);
CREATE INDEX sentences_by_article ON sentences(article_id, start);
CREATE INDEX articles_by_outlet ON articles(outlet COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS articles_by_published ON articles(published);
CREATE VIRTUAL TABLE chunks_fts USING fts5(text, tokenize = 'porter unicode61');
"""


@dataclass(frozen=True, slots=True)
class Expected:
    """What the configured settings require of a generation."""

    model: str
    dimension: int | None
    chunk_max_tokens: int
    chunk_overlap_sentences: int

    def check(self, manifest: Manifest) -> None:
        wanted = {"model": self.model, "chunk_max_tokens": self.chunk_max_tokens,
                  "chunk_overlap_sentences": self.chunk_overlap_sentences,
                  "format_version": FORMAT_VERSION}
        if self.dimension is not None:
            wanted["dimension"] = self.dimension
        diffs = [f"{key} {getattr(manifest, key)!r} != configured {value!r}"
                 for key, value in wanted.items() if getattr(manifest, key) != value]
        if diffs:
            raise IndexMismatch(
                f"the index was built with other settings ({'; '.join(diffs)}); "
                "rebuild it with `newsdesk index --rebuild`"
            )


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    outlets: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    as_of: date | None = None

    @property
    def active(self) -> bool:
        return bool(self.outlets or self.since or self.until or self.as_of)

    def sql(self) -> tuple[str, list[object]]:
        """A WHERE fragment over `articles a`; undated articles fall outside any date range."""
        clauses: list[str] = []
        params: list[object] = []
        if self.outlets:
            clauses.append(f"a.outlet COLLATE NOCASE IN ({','.join('?' * len(self.outlets))})")
            params.extend(self.outlets)
        if self.since:
            clauses.append("a.published >= ?")
            params.append(self.since.isoformat())
        if self.until:
            clauses.append("a.published <= ?")
            params.append(self.until.isoformat())
        if self.as_of:
            clauses.append("(a.published IS NULL OR a.published <= ?)")
            params.append(self.as_of.isoformat())
        return (" AND ".join(clauses) or "1"), params


def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA foreign_keys = ON")
    return connection


def _article_from_row(row: sqlite3.Row) -> Article:
    return Article(
        id=row["id"], text=row["text"], title=row["title"], outlet=row["outlet"], url=row["url"],
        published=date.fromisoformat(row["published"]) if row["published"] else None,
        author=row["author"], source=row["source"],
    )


def _chunk_from_row(row: sqlite3.Row) -> Chunk:
    return Chunk(row["id"], row["article_id"], row["ordinal"], row["start"], row["end"], row["text"])


class Generation:
    """A loaded, read-only generation; safe to share between threads (one SQLite connection each)."""

    def __init__(self, path: Path, manifest: Manifest, vectors: faiss.Index, nprobe: int = 32) -> None:
        self.path = path
        self.manifest = manifest
        self.vectors = vectors
        self.nprobe = nprobe
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._coverage: dict[ArticleFilter, tuple[int, date | None, date | None]] = {}
        self._frequencies: dict[str, int] = {}
        self._outlets: list[str] | None = None
        self._db.execute("SELECT 1 FROM articles LIMIT 1")

    @property
    def _db(self) -> sqlite3.Connection:
        connection = getattr(self._local, "db", None)
        if connection is None:
            connection = self._local.db = _connect(self.path / "meta.sqlite", readonly=True)
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

    def keyword(self, match: str, k: int, where: ArticleFilter = ArticleFilter()) -> list[tuple[int, float]]:
        """BM25 from SQLite FTS5 (lower is better there; returned negated so higher is better)."""
        clause, params = where.sql()
        join = "" if not where.active else "JOIN chunks c ON c.id = f.rowid JOIN articles a ON a.id = c.article_id"
        filter_sql = "" if not where.active else f"AND {clause}"
        with self._cursor() as cur:
            rows = cur.execute(
                f"SELECT f.rowid, bm25(chunks_fts) AS s FROM chunks_fts f {join} "
                f"WHERE chunks_fts MATCH ? {filter_sql} ORDER BY s LIMIT ?",
                [match, *params, k],
            ).fetchall()
        return [(int(r[0]), -float(r[1])) for r in rows]

    def outlets(self) -> list[str]:
        if self._outlets is None:
            with self._cursor() as cur:
                self._outlets = [r[0] for r in cur.execute(
                    "SELECT DISTINCT outlet FROM articles WHERE outlet IS NOT NULL ORDER BY outlet")]
        return list(self._outlets)

    def date_range(self, where: ArticleFilter = ArticleFilter()) -> tuple[date | None, date | None]:
        _, low, high = self.coverage(where)
        return low, high

    def admitted(self, where: ArticleFilter) -> int:
        """How many articles a filter lets through: zero turns an abstention into 'nothing matches'."""
        return self.coverage(where)[0]

    def coverage(self, where: ArticleFilter) -> tuple[int, date | None, date | None]:
        """(articles, earliest, newest) a filter admits; remembered per filter, as a generation never changes
        and most questions share one (as of today)."""
        known = self._coverage.get(where)
        if known is None:
            clause, params = where.sql()
            with self._cursor() as cur:
                count, low, high = cur.execute(
                    f"SELECT count(*), min(published), max(published) FROM articles a WHERE {clause}", params
                ).fetchone()
            known = (int(count), date.fromisoformat(low) if low else None, date.fromisoformat(high) if high else None)
            if len(self._coverage) >= 1024:
                self._coverage.clear()
            self._coverage[where] = known
        return known

    def document_frequencies(self, stems: Collection[str]) -> dict[str, int]:
        """Chunks containing each Porter stem, read from FTS5's own term index and remembered.

        FTS5 counts a term's chunks by walking its whole list, so "said" costs milliseconds at 100k chunks;
        a generation never changes, so each stem is counted once. The vocabulary table lives in the
        connection's temp schema: read-only generations need no schema change.
        """
        wanted = [stem for stem in stems if stem not in self._frequencies]
        if wanted:
            db = self._db
            if not getattr(self._local, "vocab", False):
                db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_vocab "
                           "USING fts5vocab(main, chunks_fts, row)")
                self._local.vocab = True
            with self._cursor() as cur:
                found = dict(cur.execute(f"SELECT term, doc FROM temp.chunks_vocab WHERE term IN "
                                         f"({','.join('?' * len(wanted))})", wanted).fetchall())
            if len(self._frequencies) > 200_000:
                self._frequencies.clear()
            self._frequencies.update((stem, int(found.get(stem, 0))) for stem in wanted)
        return {stem: self._frequencies[stem] for stem in stems}

    def verify(self) -> None:
        """FAISS ids == SQLite chunk ids == manifest counts; raises IndexCorrupt otherwise."""
        faiss_ids = set(vector_index.ids(self.vectors).tolist())
        with self._cursor() as cur:
            articles = cur.execute("SELECT count(*) FROM articles").fetchone()[0]
            fts = cur.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]
            orphans = cur.execute(
                "SELECT count(*) FROM chunks c LEFT JOIN articles a ON a.id = c.article_id WHERE a.id IS NULL"
            ).fetchone()[0]
        sql_ids = self.chunk_ids()
        problems = []
        if faiss_ids != sql_ids:
            problems.append(f"{len(faiss_ids ^ sql_ids)} chunk ids differ between FAISS and SQLite")
        if len(sql_ids) != self.manifest.chunks or fts != self.manifest.chunks:
            problems.append(f"manifest says {self.manifest.chunks} chunks, SQLite has {len(sql_ids)}, "
                            f"full-text table {fts}")
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


class Store:
    """The data directory: finds, loads and writes generations."""

    def __init__(self, data_dir: Path, layout: vector_index.Layout = vector_index.Layout()) -> None:
        self.data_dir = data_dir
        self.layout = layout
        self.generations = data_dir / "generations"

    def current_name(self) -> str | None:
        try:
            return (self.data_dir / "CURRENT").read_text().strip() or None
        except FileNotFoundError:
            return None

    def names(self) -> list[str]:
        """Complete generations, newest first (a folder without a manifest is an aborted write)."""
        if not self.generations.is_dir():
            return []
        return sorted((p.name for p in self.generations.iterdir() if (p / "manifest.json").exists()),
                      reverse=True)

    def load(self, expected: Expected, name: str | None = None, check: bool = False) -> Generation:
        name = name or self.current_name()
        if name is None:
            raise IndexNotFound(f"no index in {self.data_dir}; build one with `newsdesk index`")
        path = self.generations / name
        try:
            manifest = Manifest.model_validate_json((path / "manifest.json").read_text())
        except FileNotFoundError as exc:
            raise IndexCorrupt(f"generation {name} has no manifest; rebuild with `newsdesk index --rebuild`") from exc
        except ValueError as exc:
            raise IndexCorrupt(f"manifest of generation {name} is unreadable ({exc.__class__.__name__}); "
                               "rebuild with `newsdesk index --rebuild`") from exc
        expected.check(manifest)
        try:
            vectors = faiss.read_index(str(path / "vectors.faiss"))
        except RuntimeError as exc:
            raise IndexCorrupt(f"vector file of generation {name} is unreadable; "
                               "rebuild with `newsdesk index --rebuild`") from exc
        if vectors.ntotal != manifest.chunks or vectors.d != manifest.dimension:
            raise IndexCorrupt(f"vector file of generation {name} holds {vectors.ntotal} vectors, manifest "
                               f"says {manifest.chunks}; rebuild with `newsdesk index --rebuild`")
        try:
            generation = Generation(path, manifest, vectors, self.layout.nprobe)
            if check:
                generation.verify()
        except sqlite3.DatabaseError as exc:
            raise IndexCorrupt(f"database of generation {name} is unreadable ({exc}); "
                               "rebuild with `newsdesk index --rebuild`") from exc
        return generation

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One writer at a time; a second re-index is refused, not queued."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / "reindex.lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise ReindexBusy("a re-index is already running; try again when it has finished") from exc
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def writer(self, base: Generation | None, dimension: int) -> GenerationWriter:
        self.generations.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        return GenerationWriter(self, self.generations / f"g{stamp}", base, dimension)

    def switch(self, name: str) -> None:
        pointer = self.data_dir / "CURRENT"
        temporary = self.data_dir / "CURRENT.tmp"
        with open(temporary, "w") as handle:
            handle.write(name)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, pointer)
        _fsync_dir(self.data_dir)
        self._prune(keep=name)

    def _prune(self, keep: str) -> None:
        """Keep the live generation and the one before it (served if the live one breaks)."""
        complete = [n for n in self.names() if n != keep][: KEEP_GENERATIONS - 1]
        for path in self.generations.iterdir():
            if path.name != keep and path.name not in complete:
                shutil.rmtree(path, ignore_errors=True)


class GenerationWriter:
    """Builds the next generation beside the live one; nothing is visible until `commit`."""

    def __init__(self, store: Store, path: Path, base: Generation | None, dimension: int) -> None:
        self.store = store
        self.path = path
        path.mkdir()
        if base is not None:
            shutil.copyfile(base.path / "meta.sqlite", path / "meta.sqlite")
            self.vectors = faiss.clone_index(base.vectors)
        else:
            self.vectors = vector_index.empty(dimension)
        self.db = _connect(path / "meta.sqlite", readonly=False)
        if base is None:
            self.db.executescript(SCHEMA)
        else:  # generations written before the index existed gain it at their next re-index
            self.db.execute("CREATE INDEX IF NOT EXISTS articles_by_published ON articles(published)")
        self.db.execute("BEGIN")

    def remove_articles(self, article_ids: Sequence[str], keep_vectors: Collection[int] = frozenset()) -> None:
        """Delete articles with their chunks; vectors in `keep_vectors` stay for re-added chunks."""
        removed: list[int] = []
        for article_id in article_ids:
            ids = [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE article_id = ?", (article_id,))]
            self.db.executemany("DELETE FROM chunks_fts WHERE rowid = ?", [(i,) for i in ids])
            self.db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
            removed.extend(i for i in ids if i not in keep_vectors)
        if removed:
            vector_index.remove(self.vectors, np.array(removed, dtype=np.int64))

    def add_article(self, article: Article, chunks: Sequence[Chunk],
                    sentences: Sequence[tuple[int, int, int, np.ndarray]] = ()) -> None:
        """`sentences` are (id, start, end, vector); vectors are kept as float16 to halve the file."""
        self.db.execute(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?)",
            (article.id, article.title, article.outlet, article.url,
             article.published.isoformat() if article.published else None, article.author,
             article.source, article.content_hash, article.text_hash, article.text),
        )
        self.db.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?)",
            [(c.id, c.article_id, c.ordinal, c.start, c.end, c.text) for c in chunks],
        )
        self.db.executemany("INSERT INTO chunks_fts(rowid, text) VALUES (?, ?)",
                            [(c.id, embedding_text(article, c.text)) for c in chunks])
        self.db.executemany("INSERT OR REPLACE INTO sentences VALUES (?,?,?,?,?)",
                            [(i, article.id, start, end, np.asarray(v, dtype=np.float16).tobytes())
                             for i, start, end, v in sentences])

    def add_vectors(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        if len(ids):
            self.vectors.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))

    def commit(self, manifest_fields: dict[str, object]) -> Manifest:
        """Write, fsync, and switch CURRENT to this generation."""
        self.db.commit()
        articles = self.db.execute("SELECT count(*) FROM articles").fetchone()[0]
        self.db.close()
        self.vectors = vector_index.fitted(self.vectors, self.store.layout)
        manifest = Manifest(format_version=FORMAT_VERSION, dimension=self.vectors.d, articles=articles,
                            chunks=self.vectors.ntotal, vectors=vector_index.describe(self.vectors),
                            built_at=datetime.now(UTC),
                            generation=self.path.name, **manifest_fields)  # type: ignore[arg-type]
        faiss.write_index(self.vectors, str(self.path / "vectors.faiss"))
        for name in ("meta.sqlite", "vectors.faiss"):
            _fsync_file(self.path / name)
        manifest_path = self.path / "manifest.json"
        manifest_path.write_text(manifest.model_dump_json(indent=2))
        _fsync_file(manifest_path)
        _fsync_dir(self.path)
        self.store.switch(self.path.name)
        return manifest

    def abort(self) -> None:
        self.db.close()
        shutil.rmtree(self.path, ignore_errors=True)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

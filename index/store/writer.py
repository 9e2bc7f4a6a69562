"""The write side: the next generation, built beside the live one and made visible only by `commit`."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import faiss
import numpy as np

from index import copies
from index import vectors as vector_index
from index.chunk import embedding_text, titled
from index.models import Article, Chunk, Manifest
from index.store.disk import connect, fsync_dir, fsync_file
from index.store.generation import Generation
from index.store.keywords import FOLDER as KEYWORDS
from index.store.keywords import KeywordWriter

# 3: keyword search in a tantivy folder beside the SQLite file (2 kept it in an FTS5 table; a re-index upgrades).
FORMAT_VERSION = 3
UPGRADABLE = frozenset({2})
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
"""

# Who said a sentence's quotation (index/speakers.py), found at index time.
SPEAKERS = """
CREATE TABLE IF NOT EXISTS speakers (
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    speaker TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS speakers_by_article ON speakers(article_id);
"""


class GenerationWriter:
    """Builds the next generation beside the live one; nothing is visible until `commit`."""

    def __init__(self, path: Path, base: Generation | None, dimension: int, layout: vector_index.Layout,
                 switch: Callable[[str], None]) -> None:
        """`switch` makes the written generation live; it is the last step of `commit`."""
        self.layout = layout
        self._switch = switch
        self.path = path
        path.mkdir()
        if base is not None:
            shutil.copyfile(base.path / "meta.sqlite", path / "meta.sqlite")
            self.vectors = faiss.clone_index(base.vectors)
        else:
            self.vectors = vector_index.empty(dimension)
        self.db = connect(path / "meta.sqlite", readonly=False)
        if base is None:
            self.db.executescript(SCHEMA)
        else:  # generations written before the index existed gain it at their next re-index
            self.db.execute("CREATE INDEX IF NOT EXISTS articles_by_published ON articles(published)")
        upgrade = base is not None and base.needs_upgrade
        self.keywords = KeywordWriter(path / KEYWORDS, None if base is None or upgrade else base.path / KEYWORDS)
        if upgrade:
            self._upgrade_keywords()
        self.db.executescript(copies.SCHEMA + SPEAKERS)
        self._touched: set[str] = set()  # articles whose copy groups must be recomputed at commit
        self.db.execute("BEGIN")

    def _upgrade_keywords(self) -> None:
        """A format-2 generation's chunks move from its FTS5 table into the keyword folder; the table goes."""
        rows = self.db.execute("SELECT c.id, c.text, a.id, a.title, a.outlet, a.published FROM chunks c "
                               "JOIN articles a ON a.id = c.article_id")
        for chunk_id, text, article_id, title, outlet, published in rows:
            self.keywords.add(article_id, outlet, date.fromisoformat(published) if published else None,
                              [(chunk_id, titled(title, text))])
        self.db.execute("DROP TABLE IF EXISTS chunks_fts")
        self.db.execute("VACUUM")

    def remove_articles(self, article_ids: Sequence[str], keep_vectors: Collection[int] = frozenset()) -> None:
        """Delete articles with their chunks; vectors in `keep_vectors` stay for re-added chunks."""
        removed: list[int] = []
        self._touched |= copies.group_of(self.db, article_ids)
        self.keywords.remove(article_ids)
        for article_id in article_ids:
            ids = [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE article_id = ?", (article_id,))]
            self.db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
            removed.extend(i for i in ids if i not in keep_vectors)
        if removed:
            vector_index.remove(self.vectors, np.array(removed, dtype=np.int64))

    def add_article(self, article: Article, chunks: Sequence[Chunk],
                    sentences: Sequence[tuple[int, int, int, np.ndarray]] = (),
                    speakers: Sequence[tuple[int, int, str]] = ()) -> None:
        """`sentences` are (id, start, end, vector); vectors are kept as float16 to halve the file.
        `speakers` are (start, end, name) of sentences whose quotation names its speaker."""
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
        self.keywords.add(article.id, article.outlet, article.published,
                          [(c.id, embedding_text(article, c.text)) for c in chunks])
        self.db.executemany("INSERT OR REPLACE INTO sentences VALUES (?,?,?,?,?)",
                            [(i, article.id, start, end, np.asarray(v, dtype=np.float16).tobytes())
                             for i, start, end, v in sentences])
        self.db.executemany("INSERT INTO speakers VALUES (?,?,?,?)", [(article.id, *said) for said in speakers])
        copies.store(self.db, article.id, article.text)
        self._touched.add(article.id)

    def add_vectors(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        if len(ids):
            self.vectors.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))

    def commit(self, manifest_fields: dict[str, object]) -> Manifest:
        """Regroup copies, write, fsync, and switch CURRENT to this generation."""
        self.keywords.commit()
        copies.regroup(self.db, self._touched | set(copies.backfill(self.db)))
        self.db.commit()
        articles = self.db.execute("SELECT count(*) FROM articles").fetchone()[0]
        self.db.close()
        self.vectors = vector_index.fitted(self.vectors, self.layout)
        manifest = Manifest(format_version=FORMAT_VERSION, dimension=self.vectors.d, articles=articles,
                            chunks=self.vectors.ntotal, vectors=vector_index.describe(self.vectors),
                            built_at=datetime.now(UTC),
                            generation=self.path.name, **manifest_fields)  # type: ignore[arg-type]
        faiss.write_index(self.vectors, str(self.path / "vectors.faiss"))
        for name in ("meta.sqlite", "vectors.faiss"):
            fsync_file(self.path / name)
        manifest_path = self.path / "manifest.json"
        manifest_path.write_text(manifest.model_dump_json(indent=2))
        fsync_file(manifest_path)
        fsync_dir(self.path)
        self._switch(self.path.name)
        return manifest

    def abort(self) -> None:
        self.keywords.abort()
        self.db.close()
        shutil.rmtree(self.path, ignore_errors=True)


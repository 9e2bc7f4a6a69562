"""The write side: the next generation, built beside the live one and made visible only by `commit`."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import faiss
import numpy as np

from index import copies
from index import vectors as vector_index
from index.chunk import embedding_text, titled
from index.models import Article, Chunk, Manifest
from index.store import versions
from index.store.disk import connect, fsync_dir, fsync_file
from index.store.generation import Generation
from index.store.keywords import FOLDER as KEYWORDS
from index.store.keywords import KeywordWriter

# 4: one SQLite file per lineage of generations, rows stamped with the generations that added and removed
# them (store/versions.py); 3 copied one SQLite file per generation; 2 kept keywords in an FTS5 table.
FORMAT_VERSION = 4
UPGRADABLE = frozenset({2, 3})


class GenerationWriter:
    """Builds the next generation beside the live one; nothing is visible until `commit`."""

    def __init__(self, path: Path, base: Generation | None, dimension: int, layout: vector_index.Layout,
                 switch: Callable[[str], None], database: Path, oldest_kept: int = 0) -> None:
        """`switch` makes the written generation live; it is the last step of `commit`. `database` is the base's
        lineage file, or a new one (a first build, a rebuild, or an upgrade from a one-generation file)."""
        self.layout = layout
        self._switch = switch
        self.path = path
        self.database = database
        path.mkdir()
        continuing = base is not None and base.database == database
        legacy = base if base is not None and not continuing else None  # formats 2 and 3: its own file
        self.sequence = base.manifest.sequence + 1 if continuing and base is not None else 1
        self._new_file = not continuing
        self.vectors = faiss.clone_index(base.vectors) if base is not None else vector_index.empty(dimension)
        self.db = connect(database, readonly=False)
        if legacy is not None:
            versions.attach_legacy(self.db, legacy.database)
        self.db.execute("BEGIN IMMEDIATE")
        if continuing and base is not None:
            versions.prepare(self.db, base.manifest.sequence, oldest_kept)
        else:
            versions.create(self.db)
        if legacy is not None:
            versions.import_legacy(self.db, self.sequence)
        versions.write_as(self.db, self.sequence)
        upgrade = base is not None and base.keywords is None
        self.keywords = KeywordWriter(path / KEYWORDS, None if base is None or upgrade else base.path / KEYWORDS)
        if upgrade:
            self._upgrade_keywords()
        self._touched: set[str] = set(copies.backfill(self.db)) if legacy is not None else set()

    def _upgrade_keywords(self) -> None:
        """A format-2 generation's chunks move from its FTS5 table into the keyword folder."""
        rows = self.db.execute("SELECT c.id, c.text, a.id, a.title, a.outlet, a.published FROM chunks c "
                               "JOIN articles a ON a.id = c.article_id")
        for chunk_id, text, article_id, title, outlet, published in rows:
            self.keywords.add(article_id, outlet, date.fromisoformat(published) if published else None,
                              [(chunk_id, titled(title, text))])

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
            "INSERT INTO articles (id, title, outlet, url, published, author, source, content_hash, text_hash, text) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)",
            (article.id, article.title, article.outlet, article.url,
             article.published.isoformat() if article.published else None, article.author,
             article.source, article.content_hash, article.text_hash, article.text),
        )
        self.db.executemany(
            'INSERT INTO chunks (id, article_id, ordinal, start, "end", text) VALUES (?,?,?,?,?,?)',
            [(c.id, c.article_id, c.ordinal, c.start, c.end, c.text) for c in chunks],
        )
        self.keywords.add(article.id, article.outlet, article.published,
                          [(c.id, embedding_text(article, c.text)) for c in chunks])
        self.db.executemany('INSERT INTO sentences (id, article_id, start, "end", vector) VALUES (?,?,?,?,?)',
                            [(i, article.id, start, end, np.asarray(v, dtype=np.float16).tobytes())
                             for i, start, end, v in sentences])
        self.db.executemany('INSERT INTO speakers (article_id, start, "end", speaker) VALUES (?,?,?,?)',
                            [(article.id, *said) for said in speakers])
        copies.store(self.db, article.id, article.text)
        self._touched.add(article.id)

    def add_vectors(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        if len(ids):
            self.vectors.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))

    def commit(self, manifest_fields: dict[str, object]) -> Manifest:
        """Regroup copies, write, fsync, and switch CURRENT to this generation. The SQLite commit comes first:
        until CURRENT moves, its rows are invisible to the live generation (store/versions.py)."""
        self.keywords.commit()
        copies.regroup(self.db, self._touched)
        articles = self.db.execute("SELECT count(*) FROM articles").fetchone()[0]
        versions.record(self.db, self.sequence)
        self.db.execute("COMMIT")
        self.db.close()
        self.vectors = vector_index.fitted(self.vectors, self.layout)
        manifest = Manifest(format_version=FORMAT_VERSION, dimension=self.vectors.d, articles=articles,
                            chunks=self.vectors.ntotal, vectors=vector_index.describe(self.vectors),
                            built_at=datetime.now(UTC), generation=self.path.name, database=self.database.name,
                            sequence=self.sequence, **manifest_fields)  # type: ignore[arg-type]
        faiss.write_index(self.vectors, str(self.path / "vectors.faiss"))
        fsync_file(self.path / "vectors.faiss")
        manifest_path = self.path / "manifest.json"
        manifest_path.write_text(manifest.model_dump_json(indent=2))
        fsync_file(manifest_path)
        fsync_dir(self.path)
        fsync_dir(self.database.parent)
        self._switch(self.path.name)
        return manifest

    def abort(self) -> None:
        """Rows a failed commit already wrote stay invisible (their number is above the live one) until the
        next writer undoes them."""
        self.keywords.abort()
        try:
            self.db.rollback()
        except sqlite3.ProgrammingError:  # closed: the SQLite commit was done
            pass
        self.db.close()
        shutil.rmtree(self.path, ignore_errors=True)
        if self._new_file:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.database}{suffix}").unlink(missing_ok=True)

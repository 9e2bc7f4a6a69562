"""The data directory: which generations exist, which one is live (CURRENT), one writer at a time.

Layout::

    CURRENT                 name of the live generation (replaced with os.replace)
    generations/<name>/     manifest.json, vectors.faiss, keywords/ (tantivy)
    meta-<name>.sqlite      the rows of a lineage of generations, stamped with the generations that added
                            and removed them (versions.py); a rebuild starts a new one
    reindex.lock            held while a re-index writes

A writer copies the live generation's vectors into a new folder (the keyword files are hard-linked), writes
its rows into the lineage file under the next generation number, fsyncs, and only then points CURRENT at
it, so a crash at any moment leaves the old or the new generation, never a mix.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import faiss

from index import vectors as vector_index
from index.errors import IndexCorrupt, IndexMismatch, IndexNotFound, ReindexBusy
from index.models import Manifest
from index.store.disk import fsync_dir
from index.store.generation import Generation
from index.store.writer import FORMAT_VERSION, UPGRADABLE, GenerationWriter

KEEP_GENERATIONS = 2


@dataclass(frozen=True, slots=True)
class Expected:
    """What the configured settings require of a generation."""

    model: str
    dimension: int | None
    chunk_max_tokens: int
    chunk_overlap_sentences: int

    def check(self, manifest: Manifest, upgrading: bool = False, current: int = FORMAT_VERSION,
              upgradable: frozenset[int] = UPGRADABLE) -> None:
        """`upgrading`: a re-index may start from an older format it knows how to carry forward."""
        if manifest.format_version in upgradable and not upgrading:
            raise IndexMismatch(f"the index was written in format {manifest.format_version}, an older layout on "
                                "disk; `newsdesk index` upgrades it (nothing is embedded again)")
        wanted: dict[str, object] = {"model": self.model, "chunk_max_tokens": self.chunk_max_tokens,
                                     "chunk_overlap_sentences": self.chunk_overlap_sentences}
        if manifest.format_version not in upgradable:
            wanted["format_version"] = current
        if self.dimension is not None:
            wanted["dimension"] = self.dimension
        diffs = [f"{key} {getattr(manifest, key)!r} != configured {value!r}"
                 for key, value in wanted.items() if getattr(manifest, key) != value]
        if diffs:
            raise IndexMismatch(
                f"the index was built with other settings ({'; '.join(diffs)}); "
                "rebuild it with `newsdesk index --rebuild`"
            )


@contextmanager
def writer_lock(data_dir: Path) -> Iterator[None]:
    """One writer at a time; a second re-index is refused, not queued."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "reindex.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise ReindexBusy("a re-index is already running; try again when it has finished") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Store:
    """The data directory: finds, loads and writes generations."""

    def __init__(self, data_dir: Path, layout: vector_index.Layout = vector_index.Layout()) -> None:
        self.data_dir = data_dir
        self.layout = layout
        layout.apply()
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

    def load(self, expected: Expected, name: str | None = None, check: bool = False,
             upgrading: bool = False) -> Generation:
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
        expected.check(manifest, upgrading)
        try:
            vectors = faiss.read_index(str(path / "vectors.faiss"))
        except RuntimeError as exc:
            raise IndexCorrupt(f"vector file of generation {name} is unreadable; "
                               "rebuild with `newsdesk index --rebuild`") from exc
        if vectors.ntotal != manifest.chunks or vectors.d != manifest.dimension:
            raise IndexCorrupt(f"vector file of generation {name} holds {vectors.ntotal} vectors, manifest "
                               f"says {manifest.chunks}; rebuild with `newsdesk index --rebuild`")
        try:
            generation = Generation(path, manifest, vectors, self.layout.nprobe,
                                    self.data_dir / manifest.database if manifest.database else None)
            if check:
                generation.verify()
        except sqlite3.DatabaseError as exc:
            raise IndexCorrupt(f"database of generation {name} is unreadable ({exc}); "
                               "rebuild with `newsdesk index --rebuild`") from exc
        return generation

    def lock(self) -> AbstractContextManager[None]:
        return writer_lock(self.data_dir)

    def writer(self, base: Generation | None, dimension: int) -> GenerationWriter:
        """Continues the base's lineage file, or starts one (first build, rebuild, upgrade)."""
        self.generations.mkdir(parents=True, exist_ok=True)
        name = f"g{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}"
        if base is not None and base.manifest.format_version == FORMAT_VERSION:
            database = base.database
        else:
            database = self.data_dir / f"meta-{name}.sqlite"
        return GenerationWriter(self.generations / name, base, dimension, self.layout, self.switch, database,
                                oldest_kept=min((m.sequence for m in self._kept()
                                                 if m.database == database.name), default=0))

    def switch(self, name: str) -> None:
        pointer = self.data_dir / "CURRENT"
        temporary = self.data_dir / "CURRENT.tmp"
        with open(temporary, "w") as handle:
            handle.write(name)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, pointer)
        fsync_dir(self.data_dir)
        self._prune(keep=name)

    def _prune(self, keep: str) -> None:
        """Keep the live generation and the one before it (served if the live one breaks), and the lineage
        files they use."""
        complete = [n for n in self.names() if n != keep][: KEEP_GENERATIONS - 1]
        for path in self.generations.iterdir():
            if path.name != keep and path.name not in complete:
                shutil.rmtree(path, ignore_errors=True)
        used = {m.database for m in self._kept()}
        for path in self.data_dir.glob("meta-*.sqlite*"):
            if path.name.removesuffix("-wal").removesuffix("-shm") not in used:
                path.unlink(missing_ok=True)

    def _kept(self) -> list[Manifest]:
        """Manifests of the complete generations on disk."""
        found = []
        for name in self.names():
            try:
                found.append(Manifest.model_validate_json((self.generations / name / "manifest.json").read_text()))
            except (OSError, ValueError):
                continue
        return found


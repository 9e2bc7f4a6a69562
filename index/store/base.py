"""The seam between the answer path and a store backend: what a generation is asked, what a writer is told.

retrieve.py, answer.py, answerability.py, service.py and build.py are written against these protocols only,
so the file store (FAISS + SQLite + tantivy folders, store/directory.py) and the Milvus store
(store/milvus/) serve them alike. A generation never changes once loaded: a backend may remember what it
read from one for as long as it is held.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import date
from typing import Any, Literal, Protocol, TypeVar

import numpy as np
from pydantic import Field

from index.chunk import Span
from index.models import Article, Chunk, Manifest, StageConfig
from index.store.directory import Expected
from index.store.filter import ArticleFilter


class Selection(Protocol):
    """The chunks a filter admits, as a backend represents them for its own dense search."""

    def admits(self, ranking: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """The ranking's chunks inside the selection, in order."""
        ...


S = TypeVar("S", bound=Selection)


class Reader(Protocol[S]):
    """One live generation, as the answer path reads it."""

    manifest: Manifest

    @property
    def name(self) -> str: ...

    @property
    def needs_upgrade(self) -> bool: ...

    def articles(self, where: ArticleFilter = ...) -> list[tuple[Article, int]]: ...

    def article(self, article_id: str) -> Article | None: ...

    def articles_by_id(self, ids: Iterable[str]) -> dict[str, Article]: ...

    def copies(self, ids: Iterable[str]) -> dict[str, list[str]]: ...

    def copy_groups(self) -> list[list[str]]: ...

    def speakers(self, ids: Iterable[str]) -> dict[str, list[tuple[int, int, str]]]: ...

    def content_hashes(self) -> dict[str, tuple[str, str]]: ...

    def chunk_ids(self) -> set[int]: ...

    def chunk_ids_of(self, article_ids: Sequence[str]) -> set[int]: ...

    def sentence_vectors(self, ids: Collection[int]) -> dict[int, np.ndarray]: ...

    def sentence_spans(self, article_id: str) -> list[Span]: ...

    def sentences_within(self, chunks: Sequence[Chunk]) -> list[tuple[int, str, int, int, np.ndarray]]: ...

    def chunks(self, ids: Sequence[int]) -> dict[int, Chunk]: ...

    def selection(self, where: ArticleFilter) -> S: ...

    def dense(self, query: np.ndarray, k: int, selection: S | None = None) -> list[tuple[int, float]]: ...

    def chunk_vectors(self, ids: list[int]) -> np.ndarray: ...

    def keyword(self, question: str, k: int, where: ArticleFilter = ...) -> list[tuple[int, float]]:
        """(chunk id, BM25 score, higher is better) of the k best chunks for the question's own words."""
        ...

    def outlets(self) -> list[str]: ...

    def date_range(self, where: ArticleFilter = ...) -> tuple[date | None, date | None]: ...

    def admitted(self, where: ArticleFilter) -> int: ...

    def document_frequencies(self, stems: Collection[str]) -> dict[str, int]: ...

    def verify(self) -> None: ...

    def close(self) -> None: ...


class Writer(Protocol):
    """The next generation, invisible to readers until `commit` makes it the live one."""

    def remove_articles(self, article_ids: Sequence[str], keep_vectors: Collection[int] = ...) -> None: ...

    def add_article(self, article: Article, chunks: Sequence[Chunk],
                    sentences: Sequence[tuple[int, int, int, np.ndarray]] = (),
                    speakers: Sequence[tuple[int, int, str]] = ()) -> None: ...

    def add_vectors(self, ids: Sequence[int], vectors: np.ndarray) -> None: ...

    def commit(self, manifest_fields: dict[str, object]) -> Manifest: ...

    def abort(self) -> None: ...


G = TypeVar("G", bound=Reader[Any])


class Backend(Protocol[G]):
    """Which generations exist, which is live, and the one writer at a time."""

    def current_name(self) -> str | None: ...

    def names(self) -> list[str]: ...

    def load(self, expected: Expected, name: str | None = None, check: bool = False,
             upgrading: bool = False) -> G: ...

    def lock(self) -> AbstractContextManager[None]: ...

    def writer(self, base: G | None, dimension: int) -> Writer: ...


class StoreConfig(StageConfig):
    backend: Literal["file", "milvus"] = Field("file", validation_alias="store", description="Where the index "
                                               "lives: file (generations of FAISS, SQLite and tantivy files under "
                                               "the data dir) or milvus (collections in Milvus; docs/deploy.md).")
    milvus_uri: str = Field("", description="With NEWSDESK_STORE=milvus: a Milvus server (http://host:19530) or "
                            "a Milvus Lite file; empty = <data_dir>/milvus.db (Milvus Lite).")
    milvus_token: str = Field("", description="Milvus credentials (user:password or an API key); empty = none.")
    milvus_collections: str = Field("newsdesk", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,40}$",
                                    description="Prefix of the Milvus collections: several indexes can share one "
                                    "Milvus under different prefixes.")

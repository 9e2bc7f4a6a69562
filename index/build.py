"""ingest -> chunk -> embed -> store, touching only what changed since the live generation."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from index.chunk import (
    ChunkConfig,
    Span,
    chunk_article,
    embedding_text,
    sentence_records,
)
from index.embed import Embedder
from index.errors import IndexMismatch
from index.ingest import read_all
from index.models import Article, Chunk, IndexReport, Rejection
from index.speakers import speakers
from index.store import Backend, Expected, Reader, Writer

Progress = Callable[[str, int, int], None]


def _noop(stage: str, done: int, total: int) -> None:
    return None


def collect(roots: Iterable[Path], max_bytes: int, report: IndexReport,
            progress: Progress = _noop) -> tuple[dict[str, Article], set[str]]:
    """Readable articles by id, and the files that failed (their old articles must survive)."""
    articles: dict[str, Article] = {}
    by_text: dict[str, Article] = {}
    failed_files: set[str] = set()
    outcomes = list(read_all(roots, max_bytes))
    for number, (found, rejections) in enumerate(outcomes, 1):
        for rejection in rejections:
            report.failed.append(Rejection(source=rejection.source, reason=rejection.reason))
            failed_files.add(_file_of(rejection.source))
        for article in found:
            reason = duplicate(article, articles, by_text)
            if reason:
                report.duplicates.append(Rejection(source=article.source, reason=reason))
            else:
                articles[article.id] = article
                by_text[article.text_hash] = article
        progress("reading", number, len(outcomes))
    return articles, failed_files


def duplicate(article: Article, by_id: Mapping[str, Article], by_text: Mapping[str, Article]) -> str | None:
    """The one duplicate rule, for a re-index and an upload alike: an id or a text already taken."""
    if article.id in by_id:
        return f"id {article.id!r} is already indexed (from {by_id[article.id].source})"
    if article.text_hash in by_text:
        return f"the same text is already indexed as {by_text[article.text_hash].id!r}"
    return None


def _file_of(source: str) -> str:
    """`path:line` sources of JSONL records belong to their file."""
    head, _, tail = source.rpartition(":")
    return head if head and tail.isdigit() else source


def reindex(
    store: Backend[Any],
    embedder: Callable[[], Embedder],
    expected: Expected,
    roots: Iterable[Path],
    *,
    max_bytes: int,
    chunking: ChunkConfig,
    rebuild: bool = False,
    progress: Progress = _noop,
) -> tuple[IndexReport, Reader | None]:
    """Bring the index in line with the files under `roots`; returns the new generation if one was written.

    `embedder` is a factory so that a re-index with nothing to do never loads the model.
    """
    began = time.perf_counter()
    report = IndexReport()
    with store.lock():
        base: Reader | None = None
        if not rebuild and store.current_name():
            try:
                base = store.load(expected, upgrading=True)
            except IndexMismatch as exc:
                raise IndexMismatch(f"{exc} (a re-index cannot mix settings)") from exc
        articles, failed_files = collect(roots, max_bytes, report, progress)
        known = base.content_hashes() if base else {}
        report.added = sorted(i for i in articles if i not in known)
        report.changed = sorted(i for i in articles if i in known and known[i][0] != articles[i].content_hash)
        report.removed = sorted(i for i, (_, src) in known.items()
                                if i not in articles and _file_of(src) not in failed_files)
        report.unchanged = len(known) - len(report.changed) - len(report.removed)
        if base is not None and not report.changed_anything and not base.needs_upgrade:
            report.generation = base.name
            report.chunks_total = base.manifest.chunks
            report.seconds = time.perf_counter() - began
            return report, None

        progress("loading model", 0, 1)
        model = embedder()
        progress("loading model", 1, 1)
        if model.max_tokens < chunking.max_tokens:
            raise IndexMismatch(f"NEWSDESK_CHUNK_MAX_TOKENS={chunking.max_tokens} exceeds what the model reads "
                                f"({model.max_tokens} tokens); lower it")
        writer = store.writer(base, model.dimension)
        try:
            report.chunks_embedded = _apply(writer, base, articles, report, model, chunking, progress)
            manifest = writer.commit({"model": expected.model, "chunk_max_tokens": chunking.max_tokens,
                                      "chunk_overlap_sentences": chunking.overlap_sentences})
        except BaseException:
            writer.abort()
            raise
        report.generation = manifest.generation
        report.chunks_total = manifest.chunks
        report.seconds = time.perf_counter() - began
        return report, store.load(expected, manifest.generation)


def _apply(writer: Writer, base: Reader | None, articles: dict[str, Article], report: IndexReport,
           model: Embedder, chunking: ChunkConfig, progress: Progress) -> int:
    """Write the report's changes into the next generation, embedding only chunks and sentences not stored
    yet; returns the number of chunks embedded."""
    touched = report.added + report.changed
    chunked: dict[str, list[Chunk]] = {}
    for number, article_id in enumerate(touched, 1):
        chunked[article_id] = chunk_article(articles[article_id], model.count_tokens, chunking.max_tokens,
                                          chunking.overlap_sentences)
        progress("chunking", number, len(touched))
    sentences: dict[str, list[tuple[int, Span]]] = {}
    for number, article_id in enumerate(touched, 1):
        sentences[article_id] = sentence_records(articles[article_id])
        progress("sentences", number, len(touched))
    new_ids = {c.id for chunks in chunked.values() for c in chunks}
    old_ids = base.chunk_ids_of(report.changed) if base else set()
    kept = base.sentence_vectors({sid for a in report.changed for sid, _ in sentences[a]}) if base else {}
    writer.remove_articles(report.changed + report.removed, keep_vectors=old_ids & new_ids)
    pending = [(articles[i], c) for i in touched for c in chunked[i] if c.id not in old_ids]
    fresh = [(articles[a].text[s.start:s.end], i) for a in touched for i, s in sentences[a] if i not in kept]
    texts = [embedding_text(article, chunk.text) for article, chunk in pending] + [t for t, _ in fresh]
    report.sentences_embedded = len(fresh)
    vectors = model.encode(texts, progress=lambda done, total: progress("embedding", done, total))
    writer.add_vectors([chunk.id for _, chunk in pending], vectors[: len(pending)])
    kept.update((i, v) for (_, i), v in zip(fresh, vectors[len(pending):], strict=True))
    progress("speakers", 0, len(touched))  # the NLP model loads at the first quotation: a step shown from its start
    for number, article_id in enumerate(touched, 1):
        spans = [(s.start, s.end) for _, s in sentences[article_id]]
        said = [(start, end, who) for (start, end), who in zip(spans, speakers(articles[article_id].text, spans),
                                                              strict=True) if who]
        writer.add_article(articles[article_id], chunked[article_id],
                           [(i, s.start, s.end, kept[i]) for i, s in sentences[article_id]], said)
        progress("speakers", number, len(touched))
    return len(pending)

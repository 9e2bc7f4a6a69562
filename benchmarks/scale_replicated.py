"""A REPLICATED 1M-chunk index, end to end: a real index's articles, chunks, sentences and keyword entries
copied R times under new ids (chunk vectors moved by Gaussian noise), written through the store's own
writer (so past NEWSDESK_EXACT_MAX_CHUNKS it becomes IVF + SQ8); then, in a process that only serves,
`ask` timed one question at a time (run it again on the same --out to time a fresh start only).

    python benchmarks/scale_replicated.py --data-dir SRC --out DIR [--chunks 1000000] [--n 100] [--noise 0.03]
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import sys
import time
from datetime import date
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.incremental import ARTICLE  # noqa: E402
from benchmarks.query_latency import QUESTIONS  # noqa: E402
from benchmarks.results import percentiles, write  # noqa: E402
from index import vectors  # noqa: E402
from index.build import _apply  # noqa: E402
from index.chunk import titled  # noqa: E402
from index.evaluate import corpus_desk, load_questions  # noqa: E402
from index.ingest import read_articles  # noqa: E402
from index.models import IndexReport  # noqa: E402
from index.store import GenerationWriter  # noqa: E402

# New ids per copy: the source id folded to 12 digits, times 100, plus the copy number (copies < 100).
NEW_ID = "((({column} % 1000000000000) * 100) + {copy})"


def copy_rows(db: sqlite3.Connection, copy: int) -> None:
    row_id = NEW_ID.format(column="id", copy=copy)
    suffix = f"'~{copy}'"
    db.execute(f"INSERT INTO articles SELECT id || {suffix}, title, outlet, url, published, author, source, "
               f"content_hash, text_hash, text FROM src.articles")
    db.execute(f"INSERT INTO chunks SELECT {row_id}, article_id || {suffix}, ordinal, start, \"end\", text "
               f"FROM src.chunks")
    db.execute(f"INSERT OR REPLACE INTO sentences SELECT {row_id}, article_id || {suffix}, start, \"end\", vector "
               f"FROM src.sentences")


def add_keywords(writer: GenerationWriter, rows: list[tuple], copy: int) -> None:
    """The copy's chunks into the keyword index, under the ids and article ids `copy_rows` gave them."""
    for chunk_id, text, article_id, title, outlet, published in rows:
        new_id = chunk_id if copy == 0 else (chunk_id % 1_000_000_000_000) * 100 + copy
        writer.keywords.add(article_id if copy == 0 else f"{article_id}~{copy}", outlet,
                            date.fromisoformat(published) if published else None, [(new_id, titled(title, text))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True, help="a real index to replicate")
    parser.add_argument("--out", type=Path, required=True, help="new, empty data folder for the copy")
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--noise", type=float, default=0.03)
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--add-one", action="store_true", help="then time adding one article, step by step")
    args = parser.parse_args()
    if not (args.out / "CURRENT").exists():
        build(args)
    serve(args)
    if args.add_one:
        add_one(args)


def build(args: argparse.Namespace) -> None:
    """Copy the source generation R times through the store's writer; the switch makes it live."""
    source = corpus_desk(args.data_dir)
    base = source.generation()
    keys = vectors.ids(base.vectors)
    real = vectors.reconstruct(base.vectors, keys.tolist())
    copies = max(1, round(args.chunks / len(keys)))

    began = time.perf_counter()
    desk = corpus_desk(args.out, embedder=source.embedder)
    writer = desk.store.writer(None, real.shape[1])
    writer.db.commit()
    writer.db.execute("ATTACH DATABASE ? AS src", (f"file:{base.path / 'meta.sqlite'}?mode=ro",))
    writer.db.execute("INSERT INTO articles SELECT * FROM src.articles")
    writer.db.execute("INSERT INTO chunks SELECT * FROM src.chunks")
    writer.db.execute("INSERT INTO sentences SELECT * FROM src.sentences")
    writer.add_vectors(keys.tolist(), real)
    searched = writer.db.execute("SELECT c.id, c.text, a.id, a.title, a.outlet, a.published FROM chunks c "
                                 "JOIN articles a ON a.id = c.article_id").fetchall()
    add_keywords(writer, searched, 0)
    rng = np.random.default_rng(7)
    for copy in range(1, copies):
        copy_rows(writer.db, copy)
        add_keywords(writer, searched, copy)
        moved = real + rng.standard_normal(real.shape, dtype=np.float32) * args.noise
        writer.add_vectors(((keys % 1_000_000_000_000) * 100 + copy).tolist(),
                           moved / np.linalg.norm(moved, axis=1, keepdims=True))
        print(f"copy {copy}/{copies - 1}: {writer.vectors.ntotal} chunks", flush=True)
    writer.db.commit()
    writer.db.execute("DETACH DATABASE src")
    manifest = writer.commit({"model": base.manifest.model, "chunk_max_tokens": base.manifest.chunk_max_tokens,
                              "chunk_overlap_sentences": base.manifest.chunk_overlap_sentences})
    figures = {"replicated": f"{len(keys)} real chunks x {copies} copies (vectors + noise {args.noise})",
               "chunks": manifest.chunks, "articles": manifest.articles, "vectors": manifest.vectors,
               "build_s": round(time.perf_counter() - began, 1)}
    (args.out / "replicated.json").write_text(json.dumps(figures))


def serve(args: argparse.Namespace) -> None:
    """A fresh process's view: load, warm, then one question at a time; its peak RSS is the serving cost."""
    faiss.omp_set_num_threads(1)
    desk = corpus_desk(args.out)
    generation = desk.generation()
    questions = [q.question for q in load_questions(args.questions, args.n)]
    desk.ask("warm up")
    latencies = []
    for question in questions:
        began = time.perf_counter()
        desk.ask(question)
        latencies.append((time.perf_counter() - began) * 1000)
    figures = {**json.loads((args.out / "replicated.json").read_text()),
               "vector_index_mb": round((generation.path / "vectors.faiss").stat().st_size / 2**20, 1),
               "sqlite_mb": round((generation.path / "meta.sqlite").stat().st_size / 2**20, 1),
               "keywords_mb": round(sum(p.stat().st_size for p in (generation.path / "keywords").iterdir()) / 2**20, 1),
               "ask_ms": percentiles(latencies),
               "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    print(json.dumps(figures, indent=2))
    write(f"scale_replicated_{figures['chunks']}", figures)


def add_one(args: argparse.Namespace) -> None:
    """One article added to the live generation by the re-index's own write path (chunk, embed, write,
    commit, switch), each step timed. The roots are not read: the replicated articles have no files of
    their own (a real re-index also reads every root, ~0.5 s per 100k chunks of JSONL)."""
    desk = corpus_desk(args.out)
    base = desk.generation()
    source = args.out / "benchmark-crane.md"
    source.write_text(ARTICLE)
    article = read_articles(source, 100_000)[0][0]
    report = IndexReport(added=[article.id])
    steps: dict[str, float] = {}
    began = time.perf_counter()
    writer = desk.store.writer(base, desk.embedder.dimension)
    steps["open_writer_s"] = time.perf_counter() - began
    mark = time.perf_counter()
    _apply(writer, base, {article.id: article}, report, desk.embedder, desk.settings.chunk, lambda *a: None)
    steps["chunk_embed_write_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    writer.commit({"model": base.manifest.model, "chunk_max_tokens": base.manifest.chunk_max_tokens,
                   "chunk_overlap_sentences": base.manifest.chunk_overlap_sentences})
    steps["commit_s"] = time.perf_counter() - mark
    steps["total_s"] = time.perf_counter() - began
    figures = {"chunks": base.manifest.chunks, **{k: round(v, 2) for k, v in steps.items()}}
    print(json.dumps(figures, indent=2))
    write(f"scale_replicated_add_one_{base.manifest.chunks}", figures)


if __name__ == "__main__":
    main()

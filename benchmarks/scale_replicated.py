"""A REPLICATED 1M-chunk index, end to end: a real index's articles, chunks, sentences and keyword entries
copied R times under new ids (chunk vectors moved by Gaussian noise), written through the store's own
writer (so past NEWSDESK_EXACT_MAX_CHUNKS it becomes IVF + SQ8); then, in a process that only serves,
`ask` timed one question at a time (run it again on the same --out to time a fresh start only).

    python benchmarks/scale_replicated.py --data-dir SRC --out DIR [--chunks 1000000] [--n 100] [--noise 0.03]
        [--add-one] [--kill-runs 20]

--add-one times adding one article through the re-index's write path, step by step; --kill-runs N starts N
such additions in child processes, SIGKILLs each at a random moment, and checks after each that the index
loads, verifies, and holds the articles before the addition or after it, never a mix.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import signal
import sqlite3
import subprocess
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


def copy_rows(db: sqlite3.Connection, copy: int, source: int, sequence: int) -> None:
    """The source generation's rows (`source`: its number in the attached lineage file `src`) under new ids,
    born in the written generation; straight into the row tables, as a bulk load needs no triggers."""
    row_id = NEW_ID.format(column="id", copy=copy)
    suffix = f"'~{copy}'" if copy else "''"
    seen = f"born <= {source} AND (died IS NULL OR died > {source})"
    db.execute(f"INSERT INTO main.articles_rows (id, title, outlet, url, published, author, source, content_hash, "
               f"text_hash, text, born) SELECT id || {suffix}, title, outlet, url, published, author, source, "
               f"content_hash, text_hash, text, {sequence} FROM src.articles_rows WHERE {seen}")
    db.execute(f"INSERT INTO main.chunks_rows (id, article_id, ordinal, start, \"end\", text, born) SELECT "
               f"{row_id if copy else 'id'}, article_id || {suffix}, ordinal, start, \"end\", text, {sequence} "
               f"FROM src.chunks_rows WHERE {seen}")
    db.execute(f"INSERT INTO main.sentences_rows (id, article_id, start, \"end\", vector, born) SELECT "
               f"{row_id if copy else 'id'}, article_id || {suffix}, start, \"end\", vector, {sequence} "
               f"FROM src.sentences_rows WHERE {seen}")


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
    parser.add_argument("--kill-runs", type=int, default=0, help="then kill -9 this many additions")
    parser.add_argument("--add-only", type=int, default=0, help=argparse.SUPPRESS)  # a --kill-runs child
    args = parser.parse_args()
    if args.add_only:
        add_one(args, args.add_only)
        return
    if not (args.out / "CURRENT").exists():
        build(args)
    serve(args)
    if args.add_one:
        add_one(args)
    if args.kill_runs:
        kill_runs(args)


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
    writer.db.execute("COMMIT")
    writer.db.execute("ATTACH DATABASE ? AS src", (f"file:{base.database}?mode=ro",))
    writer.db.execute("BEGIN IMMEDIATE")
    copy_rows(writer.db, 0, base.manifest.sequence, writer.sequence)
    writer.add_vectors(keys.tolist(), real)
    searched = writer.db.execute("SELECT c.id, c.text, a.id, a.title, a.outlet, a.published FROM chunks c "
                                 "JOIN articles a ON a.id = c.article_id").fetchall()
    add_keywords(writer, searched, 0)
    rng = np.random.default_rng(7)
    for copy in range(1, copies):
        copy_rows(writer.db, copy, base.manifest.sequence, writer.sequence)
        add_keywords(writer, searched, copy)
        moved = real + rng.standard_normal(real.shape, dtype=np.float32) * args.noise
        writer.add_vectors(((keys % 1_000_000_000_000) * 100 + copy).tolist(),
                           moved / np.linalg.norm(moved, axis=1, keepdims=True))
        print(f"copy {copy}/{copies - 1}: {writer.vectors.ntotal} chunks", flush=True)
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
               "sqlite_mb": round(generation.database.stat().st_size / 2**20, 1),
               "keywords_mb": round(sum(p.stat().st_size for p in (generation.path / "keywords").iterdir()) / 2**20, 1),
               "ask_ms": percentiles(latencies),
               "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    print(json.dumps(figures, indent=2))
    write(f"scale_replicated_{figures['chunks']}", figures)


def add_one(args: argparse.Namespace, number: int = 0) -> None:
    """One article added to the live generation by the re-index's own write path (chunk, embed, write,
    commit, switch), each step timed. The roots are not read: the replicated articles have no files of
    their own (a real re-index also reads every root, ~0.5 s per 100k chunks of JSONL)."""
    desk = corpus_desk(args.out)
    base = desk.generation()
    source = args.out / f"benchmark-crane-{number}.md"
    source.write_text(ARTICLE.replace("during storm", f"during storm {number}"))
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
    if not number:
        write(f"scale_replicated_add_one_{base.manifest.chunks}", figures)


def kill_runs(args: argparse.Namespace) -> None:
    """SIGKILL additions at random moments over their whole duration (loading included); after each, a fresh
    load with every check must hold the old articles, or the old ones and the new one."""
    rng = random.Random(3)
    began = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--data-dir", str(args.data_dir), "--out", str(args.out),
                    "--add-only", "1"], check=True, capture_output=True)
    duration = time.perf_counter() - began
    before = {a.id for a, _ in corpus_desk(args.out).generation().articles()}
    outcomes = {"old": 0, "new": 0}
    for run in range(2, args.kill_runs + 2):
        child = subprocess.Popen([sys.executable, __file__, "--data-dir", str(args.data_dir), "--out",
                                  str(args.out), "--add-only", str(run)], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, duration))
        child.send_signal(signal.SIGKILL)
        child.wait()
        desk = corpus_desk(args.out)
        generation = desk.store.load(desk.expected(), check=True)
        now = {a.id for a, _ in generation.articles()}
        added = now - before
        if not now >= before or len(added) > 1 or (added and "crane" not in next(iter(added))):
            raise SystemExit(f"run {run}: a mixed index ({len(before)} articles before, {len(now)} now)")
        outcomes["new" if added else "old"] += 1
        before = now
        generation.close()
    figures = {"chunks": generation.manifest.chunks, "kill_runs": args.kill_runs, "one_addition_s": round(duration, 2),
               **outcomes, "mixed_or_corrupt": 0}
    print(json.dumps(figures, indent=2))
    write(f"scale_replicated_kill_{generation.manifest.chunks}", figures)


if __name__ == "__main__":
    main()

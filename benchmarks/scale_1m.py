"""The 1M-chunk point, SYNTHETIC: an index's real chunk vectors replicated with Gaussian noise up to N
vectors, searched by real question embeddings through the store's own vector code (index/vectors.py).

Exact flat scan against IVF + 8-bit scalar quantisation at several nprobe: memory of the index, train
and add time, single-query latency (one OpenMP thread), recall@10 / @40 against the exact top-k, and
the same with a date-style filter that admits 90 % of the ids.

    python benchmarks/scale_1m.py --data-dir DIR [--vectors 1000000] [--noise 0.03] [--n 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.query_latency import QUESTIONS  # noqa: E402
from benchmarks.results import percentiles, write  # noqa: E402
from index import vectors  # noqa: E402
from index.evaluate import corpus_desk, load_questions  # noqa: E402


def synthetic(real: np.ndarray, count: int, noise: float) -> np.ndarray:
    """Copies of the real vectors, each copy moved by noise and re-normalised (labelled synthetic)."""
    rng = np.random.default_rng(7)
    copies = -(-count // len(real))
    out = np.empty((copies * len(real), real.shape[1]), dtype=np.float32)
    for copy in range(copies):
        block = real + rng.standard_normal(real.shape, dtype=np.float32) * (noise if copy else 0.0)
        out[copy * len(real):(copy + 1) * len(real)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out[:count]


def timed_search(index: faiss.Index, queries: np.ndarray, k: int, selection: vectors.Selection | None,
                 nprobe: int) -> tuple[list[list[int]], list[float]]:
    found, times = [], []
    for query in queries:
        began = time.perf_counter()
        hits = vectors.search(index, query, k, selection, nprobe)
        times.append((time.perf_counter() - began) * 1000)
        found.append([i for i, _ in hits])
    return found, times


def recall(approx: list[list[int]], exact: list[list[int]], k: int) -> float:
    return round(float(np.mean([len(set(a[:k]) & set(e[:k])) / k for a, e in zip(approx, exact, strict=True)])), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True, help="an index whose vectors seed the copies")
    parser.add_argument("--vectors", type=int, default=1_000_000)
    parser.add_argument("--noise", type=float, default=0.03, help="per-dimension noise of each copy")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--nprobe", type=int, nargs="+", default=[16, 32, 64])
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)
    desk = corpus_desk(args.data_dir)
    generation = desk.generation()
    keys = vectors.ids(generation.vectors)
    real = vectors.reconstruct(generation.vectors, keys.tolist())
    queries = desk.embedder.encode_queries([q.question for q in load_questions(args.questions, args.n)])
    data = synthetic(real, args.vectors, args.noise)
    ids = np.arange(len(data), dtype=np.int64)
    # As the store passes a filter admitting 90 %: the smaller side, the 10 % it leaves out.
    selection = vectors.Selection(np.random.default_rng(3).choice(ids, len(ids) // 10, replace=False), skip=True)

    flat = vectors.empty(data.shape[1])
    flat.add_with_ids(data, ids)
    exact, flat_ms = timed_search(flat, queries, 40, None, 0)
    exact_filtered, flat_filtered_ms = timed_search(flat, queries, 40, selection, 0)
    rows: list[dict[str, Any]] = [{"index": "flat (exact)", "bytes": data.nbytes + ids.nbytes,
                                   "search_ms": percentiles(flat_ms), "filtered_ms": percentiles(flat_filtered_ms),
                                   "recall_at_10": 1.0, "recall_at_40": 1.0}]
    omp = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(2)
    began = time.perf_counter()
    ivf = vectors.fitted(flat, vectors.Layout(exact_max=1))
    build_s = time.perf_counter() - began
    faiss.omp_set_num_threads(omp)
    del flat
    for nprobe in args.nprobe:
        found, ms = timed_search(ivf, queries, 40, None, nprobe)
        found_filtered, filtered_ms = timed_search(ivf, queries, 40, selection, nprobe)
        rows.append({"index": f"{vectors.describe(ivf)} nprobe={nprobe}", "bytes": len(faiss.serialize_index(ivf)),
                     "train_and_add_s": round(build_s, 1), "search_ms": percentiles(ms),
                     "filtered_ms": percentiles(filtered_ms), "recall_at_10": recall(found, exact, 10),
                     "recall_at_40": recall(found, exact, 40),
                     "filtered_recall_at_10": recall(found_filtered, exact_filtered, 10)})
    figures = {"synthetic": f"{len(real)} real chunk vectors replicated with noise {args.noise} to {len(data)}",
               "queries": len(queries), "threads": 1, "rows": rows}
    print(f"{'index':28} {'MB':>7} {'p50 ms':>8} {'p95 ms':>8} {'filt p50':>9} {'R@10':>6} {'R@40':>6}")
    for row in rows:
        print(f"{row['index']:28} {row['bytes'] / 2**20:7.0f} {row['search_ms']['p50']:8.2f} "
              f"{row['search_ms']['p95']:8.2f} {row['filtered_ms']['p50']:9.2f} {row['recall_at_10']:6.3f} "
              f"{row['recall_at_40']:6.3f}")
    write(f"scale_{len(data)}", figures)


if __name__ == "__main__":
    main()

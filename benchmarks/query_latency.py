"""Single-question latency with the index loaded: the whole ask (default rerank mode, and hybrid
without the sentence rerank, interleaved so the two compare in one run), and its parts.

    python benchmarks/query_latency.py --data-dir DIR [--questions FILE] [--n 100] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import faiss

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.results import percentiles, write  # noqa: E402
from index.evaluate import corpus_desk, load_questions  # noqa: E402
from index.retrieve import Mode  # noqa: E402
from index.terms import fts_query  # noqa: E402

QUESTIONS = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "realtimeqa-2023.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1, help="FAISS OpenMP threads")
    args = parser.parse_args()
    faiss.omp_set_num_threads(args.threads)
    questions = [q.question for q in load_questions(args.questions, args.n)]
    desk = corpus_desk(args.data_dir)
    generation = desk.generation()
    desk.ask("warm up")
    parts: dict[str, list[float]] = {"ask": [], "ask_hybrid": [], "embed_question": [], "dense_search": [],
                                     "keyword_search": []}
    for number, question in enumerate(questions):
        # Alternate which mode goes first, so neither always finds the other's warm caches.
        order = [("ask", Mode.rerank), ("ask_hybrid", Mode.hybrid)]
        for part, mode in order if number % 2 == 0 else order[::-1]:
            began = time.perf_counter()
            desk.ask(question, mode=mode)
            parts[part].append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        vector = desk.embedder.encode_queries([question])[0]
        parts["embed_question"].append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        generation.dense(vector, 40)
        parts["dense_search"].append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        generation.keyword(fts_query(question) or "x", 40)
        parts["keyword_search"].append((time.perf_counter() - began) * 1000)
    figures = {name: percentiles(values) for name, values in parts.items()}
    figures["chunks"] = generation.manifest.chunks
    figures["faiss_threads"] = args.threads
    figures["settings"] = {key: os.environ[key] for key in sorted(os.environ) if key.startswith("NEWSDESK_")}
    print(f"{'part':<16}{'p50 ms':>10}{'p95 ms':>10}   ({generation.manifest.chunks} chunks, {len(questions)} questions)")
    for name, values in parts.items():
        print(f"{name:<16}{figures[name]['p50']:>10}{figures[name]['p95']:>10}")
    write(f"query_latency_{generation.manifest.chunks}", figures)


if __name__ == "__main__":
    main()

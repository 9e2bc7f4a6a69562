"""Single-question latency with the index loaded: the whole ask (default rerank mode, and hybrid
without the sentence rerank, interleaved so the two compare in one run), and its parts.

    python benchmarks/query_latency.py --data-dir DIR [--questions FILE] [--n 100] [--threads 1] [--neighbour]

`--neighbour` starts a CPU-bound process beside the benchmark and asks every question twice, once with the
neighbour stopped (SIGSTOP: quiet) and once with it running (loaded), the order alternating, so quiet and
loaded figures come from the same run and their ratio is like with like.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import faiss

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.results import percentiles, write  # noqa: E402
from index.evaluate import corpus_desk, load_questions  # noqa: E402
from index.retrieve import Mode  # noqa: E402

QUESTIONS = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "realtimeqa-2023.jsonl"


PARTS = ("ask", "ask_hybrid", "embed_question", "dense_search", "keyword_search")


@contextmanager
def neighbour(wanted: bool) -> Iterator[subprocess.Popen[bytes] | None]:
    """A busy loop in another process, stopped until a loaded measurement continues it."""
    if not wanted:
        yield None
        return
    process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    process.send_signal(signal.SIGSTOP)
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1, help="FAISS threads (NEWSDESK_VECTOR_SEARCH_THREADS)")
    parser.add_argument("--neighbour", action="store_true", help="also measure beside a CPU-bound process")
    parser.add_argument("--tag", default="", help="added to the result file's name")
    args = parser.parse_args()
    questions = [q.question for q in load_questions(args.questions, args.n)]
    desk = corpus_desk(args.data_dir, vector_search_threads=args.threads)
    generation = desk.generation()
    desk.ask("warm up")
    conditions = ["quiet", "loaded"] if args.neighbour else ["quiet"]
    parts: dict[str, list[float]] = {f"{part}_{c}" if c == "loaded" else part: []
                                     for c in conditions for part in PARTS}

    def timed(name: str, call: object, *arguments: object) -> None:
        began = time.perf_counter()
        call(*arguments)  # type: ignore[operator]
        parts[name].append((time.perf_counter() - began) * 1000)

    with neighbour(args.neighbour) as busy:
        for number, question in enumerate(questions):
            # Alternate which mode and which condition go first, so neither always finds warm caches.
            for condition in conditions if number % 2 == 0 else conditions[::-1]:
                if busy is not None:
                    busy.send_signal(signal.SIGCONT if condition == "loaded" else signal.SIGSTOP)
                    time.sleep(0.02)
                suffix = "_loaded" if condition == "loaded" else ""
                order = [("ask", Mode.rerank), ("ask_hybrid", Mode.hybrid)]
                for part, mode in order if number % 2 == 0 else order[::-1]:
                    timed(part + suffix, lambda q, m: desk.ask(q, mode=m), question, mode)
                timed("embed_question" + suffix, desk.embedder.encode_queries, [question])
                vector = desk.embedder.encode_queries([question])[0]
                timed("dense_search" + suffix, generation.dense, vector, 40)
                timed("keyword_search" + suffix, generation.keyword, question, 40)
    figures: dict[str, object] = {name: percentiles(values) for name, values in parts.items()}
    if args.neighbour:
        figures["loaded_over_quiet_p50"] = {
            part: round(percentiles(parts[f"{part}_loaded"])["p50"] / percentiles(parts[part])["p50"], 2)
            for part in PARTS}
    figures["chunks"] = generation.manifest.chunks
    figures["faiss_threads"] = faiss.omp_get_max_threads()
    figures["settings"] = {key: os.environ[key] for key in sorted(os.environ) if key.startswith("NEWSDESK_")}
    print(f"{'part':<22}{'p50 ms':>10}{'p95 ms':>10}   ({generation.manifest.chunks} chunks, {len(questions)} questions)")
    for name, values in parts.items():
        print(f"{name:<22}{percentiles(values)['p50']:>10}{percentiles(values)['p95']:>10}")
    if args.neighbour:
        print("loaded / quiet p50:", figures["loaded_over_quiet_p50"])
    write(f"query_latency_{generation.manifest.chunks}{'_' + args.tag if args.tag else ''}", figures)


if __name__ == "__main__":
    main()

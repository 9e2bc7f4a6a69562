"""Many questions at once through the core (the bot's worker-thread path): questions/s, p95, errors.

    python benchmarks/throughput.py --data-dir DIR [--questions FILE] [--n 50] [--workers 4]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.query_latency import QUESTIONS  # noqa: E402
from benchmarks.results import percentiles, write  # noqa: E402
from index.evaluate import corpus_desk, load_questions  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4, help="like NEWSDESK_DISCORD_MAX_CONCURRENT")
    args = parser.parse_args()
    questions = [q.question for q in load_questions(args.questions, args.n)]
    desk = corpus_desk(args.data_dir)
    desk.ask("warm up")
    errors: list[str] = []

    def one(question: str) -> float:
        began = time.perf_counter()
        try:
            desk.ask(question)
        except Exception as exc:  # counted and reported, the point of the benchmark
            errors.append(repr(exc))
        return (time.perf_counter() - began) * 1000

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        latencies = list(pool.map(one, questions))
    seconds = time.perf_counter() - began
    figures = {"questions": len(questions), "workers": args.workers, "seconds": round(seconds, 2),
               "questions_per_s": round(len(questions) / seconds, 2), "latency_ms": percentiles(latencies),
               "errors": len(errors), "chunks": desk.generation().manifest.chunks}
    print(json.dumps(figures, indent=2))
    write(f"throughput_{figures['chunks']}", figures)


if __name__ == "__main__":
    main()

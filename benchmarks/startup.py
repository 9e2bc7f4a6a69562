"""Start-up: model load, index load (with the full consistency check) and first answer, timed apart.

    python benchmarks/startup.py --data-dir DIR
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.results import write  # noqa: E402
from index.evaluate import corpus_desk  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args()
    began = time.perf_counter()
    desk = corpus_desk(args.data_dir)
    desk.embedder.encode(["warm up"])
    model_seconds = time.perf_counter() - began
    began = time.perf_counter()
    generation = desk.generation()
    index_seconds = time.perf_counter() - began
    began = time.perf_counter()
    desk.ask("What happened this week?")
    first_answer_seconds = time.perf_counter() - began
    figures = {"chunks": generation.manifest.chunks, "model_load_and_warm_s": round(model_seconds, 2),
               "index_load_and_verify_s": round(index_seconds, 2), "first_answer_s": round(first_answer_seconds, 2),
               "ready_excluding_model_s": round(index_seconds + first_answer_seconds, 2)}
    for key, value in figures.items():
        print(f"{key:>28}: {value}")
    write(f"startup_{generation.manifest.chunks}", figures)


if __name__ == "__main__":
    main()

"""Incremental re-index at scale: no change, then one article added, then removed (end to end,
including the atomic switch).

    python benchmarks/incremental.py --data-dir DIR
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.results import write  # noqa: E402
from index.evaluate import corpus_desk  # noqa: E402
from index.service import Newsdesk  # noqa: E402

ARTICLE = """---
title: Harbour crane collapses during storm
outlet: Benchmark Wire
published: 2023-03-01
---
A harbour crane collapsed during a storm on Tuesday night, blocking two berths. Port officials said no one
was hurt and that the berths would reopen within a week once the wreckage is cleared.
"""


def timed(desk: Newsdesk) -> tuple[float, int]:
    began = time.perf_counter()
    report = desk.reindex()
    return time.perf_counter() - began, report.chunks_embedded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args()
    desk = corpus_desk(args.data_dir)
    desk.embedder.encode(["warm up"])
    desk.generation()
    no_change, embedded_none = timed(desk)
    extra = desk.settings.articles_path / "benchmark-crane.md"
    extra.parent.mkdir(parents=True, exist_ok=True)
    extra.write_text(ARTICLE)
    add_one, embedded_add = timed(desk)
    extra.unlink()
    remove_one, embedded_remove = timed(desk)
    figures = {"chunks": desk.generation().manifest.chunks, "no_change_s": round(no_change, 3),
               "no_change_embedded": embedded_none, "add_one_s": round(add_one, 3), "add_one_embedded": embedded_add,
               "remove_one_s": round(remove_one, 3), "remove_one_embedded": embedded_remove}
    for key, value in figures.items():
        print(f"{key:>20}: {value}")
    write(f"incremental_{figures['chunks']}", figures)


if __name__ == "__main__":
    main()

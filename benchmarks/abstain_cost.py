"""What the answer-or-abstain decision adds to a question: time inside `answerability.decide` (the signals:
term frequencies from FTS5, stems, coverage dates, the model), against the whole ask, in the same run.

    python benchmarks/abstain_cost.py --data-dir DIR [--questions FILE ...] [--n 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import index.answer  # noqa: E402
from benchmarks.results import percentiles, write  # noqa: E402
from index.evaluate import corpus_desk, load_questions  # noqa: E402

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "eval"


def timed(function: Callable[..., Any], into: list[float]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            into.append((time.perf_counter() - began) * 1000)

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--questions", type=Path, action="append",
                        default=[SHARED / "realtimeqa-2023.jsonl", SHARED / "abstain" / "offtopic-60.jsonl"])
    parser.add_argument("--n", type=int, default=200, help="Questions per file.")
    parser.add_argument("--today", action="store_true",
                        help="Ask every question as of today, as the bot does, instead of its asked_on date.")
    args = parser.parse_args()
    questions = [q for path in args.questions for q in load_questions(path, args.n)]
    desk = corpus_desk(args.data_dir)
    desk.ask("warm up")
    decide: list[float] = []
    index.answer.decide = timed(index.answer.decide, decide)
    decide.clear()
    asks: list[float] = []
    abstained = 0
    for question in questions:
        began = time.perf_counter()
        answer = desk.ask(question.question, as_of=None if args.today else question.asked_on)
        asks.append((time.perf_counter() - began) * 1000)
        abstained += answer.abstained
    figures: dict[str, Any] = {"decide_ms": percentiles(decide), "ask_ms": percentiles(asks), "today": args.today,
                               "settings": {k: os.environ[k] for k in sorted(os.environ) if k.startswith("NEWSDESK_")},
                               "chunks": desk.generation().manifest.chunks, "questions": len(questions),
                               "abstained": abstained}
    figures["decide_share_of_ask_p50"] = round(figures["decide_ms"]["p50"] / figures["ask_ms"]["p50"], 4)
    print(f"{figures['chunks']} chunks, {len(questions)} questions ({abstained} abstained)")
    print(f"decide  p50 {figures['decide_ms']['p50']} ms  p95 {figures['decide_ms']['p95']} ms")
    print(f"ask     p50 {figures['ask_ms']['p50']} ms  p95 {figures['ask_ms']['p95']} ms "
          f"(decide is {figures['decide_share_of_ask_p50']:.1%} of the median ask)")
    write(f"abstain_cost_{figures['chunks']}{'_today' if args.today else ''}", figures)


if __name__ == "__main__":
    main()

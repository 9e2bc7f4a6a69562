"""Does the Milvus store (Milvus Lite) answer as the file store does? The same evaluations on both in one run:
seeds-dev (12 answerable, 10 off-topic) and the CI slice of tests/test_eval.py (60 RealTime QA questions over
their gold articles + 150 BBC distractors, and the 60 off-topic questions), rerank mode, int8 encoder; and the
questions whose outcome (answered with the gold in the quotes, or abstained) differs between the stores.

    python benchmarks/milvus_equality.py [--work DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from test_eval import EVAL, build_slice  # noqa: E402

from benchmarks.results import write  # noqa: E402
from index.config import PROJECT_ROOT  # noqa: E402
from index.evaluate import Scored, corpus_desk, run_eval  # noqa: E402
from index.retrieve import Mode  # noqa: E402

STORES = ("file", "milvus")


def evaluate(work: Path, store: str, corpus: Path, questions: Path) -> tuple[dict[str, Any], dict[str, object]]:
    """Figures and each question's outcome for one store."""
    outcomes: dict[str, object] = {}

    def keep(scored: Scored) -> None:
        outcomes[scored.id] = "abstained" if scored.answer.abstained else scored.answer_in_quotes

    desk = corpus_desk(work / f"idx-{store}-{corpus.stem}", embed_backend="onnx-int8", store=store)
    run = run_eval(desk, [corpus], questions, [Mode.rerank], on_answer=keep)
    table = run.modes[0]
    figures = {"questions": table.questions, "answer_in_quotes": table.answer_in_quotes,
               "false_abstain": table.false_abstain, "abstain_offtopic": table.abstain_offtopic,
               "verbatim": table.verbatim, "hit_at_5": table.hit_at_5, "mrr_at_10": table.mrr_at_10,
               "latency_ms_median": table.latency_ms_median, "index_seconds": round(run.index_seconds, 1)}
    return figures, outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="milvus-equality-"))
    corpus, answerable, offtopic = build_slice(work / "slice")
    sets = {"seeds-dev": (PROJECT_ROOT / "seeds", EVAL / "seeds-dev.jsonl"), "rtqa-slice": (corpus, answerable),
            "offtopic-slice": (corpus, offtopic)}
    figures: dict[str, Any] = {}
    for name, (source, questions) in sets.items():
        found = {store: evaluate(work, store, source, questions) for store in STORES}
        differ = sorted(q for q in found["file"][1] if found["file"][1][q] != found["milvus"][1].get(q))
        figures[name] = {**{store: found[store][0] for store in STORES}, "differing_questions": differ}
        for store in STORES:
            print(f"{name:15} {store:7} " + " ".join(f"{k}={v}" for k, v in found[store][0].items()))
        print(f"{name:15} questions with another outcome on Milvus: {len(differ)} {differ}")
    write("milvus_equality", figures)


if __name__ == "__main__":
    main()

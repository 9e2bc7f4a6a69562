"""Start-up as a person meets it: from exec to the first answered question, timed from outside the process,
and its parts (interpreter, imports, model load and warm-up, index load with the full check, first answer).

    python benchmarks/startup.py --data-dir DIR [--runs 5] [--backend torch|onnx-int8]

DIR is built from seeds/ first if it holds no index. Whole-process figures are medians of `--runs` runs of
`python -m index ask QUESTION --json`, each a fresh interpreter; the parts come from the same number of
fresh processes that time each step in turn.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTION = "Why was Russia expelled from the G8?"


def parts(data_dir: Path) -> dict[str, float]:
    """Run inside a fresh process: each step timed in order, from this function's first line."""
    began = time.perf_counter()
    from index.service import Newsdesk

    imported = time.perf_counter()
    desk = Newsdesk.open(data_dir=data_dir)
    desk.embedder.encode(["warm up"])
    model = time.perf_counter()
    desk.verify()
    index = time.perf_counter()
    desk.ask(QUESTION)
    answered = time.perf_counter()
    return {"imports_s": imported - began, "model_load_and_warm_s": model - imported,
            "index_load_and_verify_s": index - model, "first_answer_s": answered - index}


def timed(command: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backend", default="torch", choices=["torch", "onnx-int8"])
    parser.add_argument("--parts", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.parts:
        print(json.dumps(parts(args.data_dir)))
        return
    from benchmarks.results import write
    from index.service import Newsdesk

    os.environ["NEWSDESK_EMBED_BACKEND"] = args.backend
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(args.data_dir)}
    desk = Newsdesk.open(data_dir=args.data_dir)
    desk.ensure_index()
    chunks = desk.status().chunks
    commands = {"interpreter_s": [sys.executable, "-c", "pass"],
                "whole_ask_process_s": [sys.executable, "-m", "index", "ask", QUESTION, "--json"]}
    runs: dict[str, list[float]] = {name: [] for name in commands}
    steps: list[dict[str, float]] = []
    timed(commands["whole_ask_process_s"], env)  # warm the page cache once, as a second start would find it
    for _ in range(args.runs):
        for name, command in commands.items():
            runs[name].append(timed(command, env))
        child = subprocess.run([sys.executable, __file__, "--parts", "--data-dir", str(args.data_dir)], cwd=ROOT,
                               env=env, check=True, capture_output=True, text=True)
        steps.append(json.loads(child.stdout.strip().splitlines()[-1]))
    figures: dict[str, object] = {"chunks": chunks, "runs": args.runs, "backend": args.backend,
                                  "settings": {k: v for k, v in sorted(env.items()) if k.startswith("NEWSDESK_")}}
    figures.update({name: round(statistics.median(values), 3) for name, values in runs.items()})
    figures.update({name: round(statistics.median(s[name] for s in steps), 3) for name in steps[0]})
    for key, value in figures.items():
        print(f"{key:>26}: {value}")
    write(f"startup_{args.backend}_{chunks}", figures)


if __name__ == "__main__":
    main()

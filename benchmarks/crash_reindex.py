"""kill -9 a re-index at random moments; after each kill the index must load, verify and answer,
holding exactly the corpus before or after the re-index, never a mix.

    python benchmarks/crash_reindex.py [--runs 20] [--articles 40]

Prints a table and writes benchmarks/results/crash_reindex.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.config import load_settings  # noqa: E402
from index.embed import make_embedder  # noqa: E402
from index.service import Newsdesk  # noqa: E402


def write_articles(folder: Path, count: int) -> None:
    rng = random.Random(11)
    words = "council harbour budget storm election court river school market bridge vote rail".split()
    for number in range(count):
        body = " ".join(f"The {rng.choice(words)} story {number} sentence {i} continued with detail."
                        for i in range(60))
        (folder / f"crash-{number:03d}.md").write_text(f"---\ntitle: Crash test {number}\n---\n{body}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--articles", type=int, default=40)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="newsdesk-crash-"))
    data, articles, parked = work / "data", work / "articles", work / "parked"
    articles.mkdir()
    parked.mkdir()
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(data), "NEWSDESK_ARTICLES_DIR": str(articles)}
    settings = load_settings(data_dir=data, articles_dir=articles)
    embedder = make_embedder(settings.embed, settings.models_path)
    Newsdesk(settings, embedder=embedder).reindex()
    write_articles(parked, args.articles)
    small = {"000_a40fa405f421a0a6", "003_60249ec177c291d1"}
    large = small | {p.stem for p in parked.iterdir()}

    began = time.perf_counter()
    full = subprocess.run([sys.executable, "-m", "index", "index"], env={**env, "NEWSDESK_ARTICLES_DIR": str(parked)},
                          capture_output=True, text=True)
    full_seconds = time.perf_counter() - began
    shutil.rmtree(data)
    Newsdesk(settings, embedder=embedder).reindex()

    rows = []
    rng = random.Random(3)
    indexed_large = False
    for run in range(args.runs):
        grow = not indexed_large
        source, target = (parked, articles) if grow else (articles, parked)
        for path in list(source.iterdir()):
            path.rename(target / path.name)
        delay = rng.uniform(0.2, full_seconds * 1.1)
        process = subprocess.Popen([sys.executable, "-m", "index", "index"], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        killed = process.poll() is None
        if killed:
            process.send_signal(signal.SIGKILL)
        process.wait()
        desk = Newsdesk(settings, embedder=embedder)
        outcome = "error"
        try:
            generation = desk.generation()
            generation.verify()
            ids = {a.id for a, _ in generation.articles()}
            indexed_large = ids == large
            answer = desk.ask("Why was Russia expelled from the G8?")
            corpus = "after" if ids == (large if grow else small) else "before" if ids == (small if grow else large) \
                else "MIX"
            outcome = corpus if answer.quotes and not desk.degraded else f"{corpus}-degraded"
        except Exception as exc:  # the point of the script is to report any failure, not to stop at it
            outcome = f"error: {exc}"
        rows.append({"run": run + 1, "direction": "grow" if grow else "shrink", "kill_after_s": round(delay, 2),
                     "killed": killed, "outcome": outcome})
        print(f"{run + 1:>3} {rows[-1]['direction']:<6} kill at {delay:5.2f}s killed={killed!s:<5} -> {outcome}",
              flush=True)

    survived = sum(r["outcome"] in {"before", "after"} for r in rows)
    summary = {"runs": len(rows), "survived": survived, "killed_mid_run": sum(r["killed"] for r in rows),
               "full_reindex_seconds": round(full_seconds, 2), "full_reindex_exit": full.returncode, "rows": rows}
    print(f"tried {len(rows)}, survived {survived} (loadable, consistent, answering, one corpus); "
          f"{summary['killed_mid_run']} killed mid-run; full re-index {full_seconds:.1f} s")
    out = ROOT / "benchmarks" / "results" / "crash_reindex.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

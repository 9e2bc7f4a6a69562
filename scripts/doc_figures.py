"""Numbers in the docs that come from the code are written by this script, so they cannot drift from it.

A generated block sits between `<!-- figures:NAME -->` and `<!-- /figures -->` in a docs/ file:

    python scripts/doc_figures.py          # rewrite every block
    python scripts/doc_figures.py --check  # exit 1 if a block differs from the code (run by the tests)

The CI floors come from tests/test_eval.py, the reliability trials' sizes from tests/test_reliability.py and
tests/test_generation_switch.py.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import test_eval  # noqa: E402
import test_generation_switch  # noqa: E402
import test_reliability  # noqa: E402

BLOCK = re.compile(r"(<!-- figures:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /figures -->)", re.S)


def ci_floors() -> str:
    e = test_eval
    return (f"The CI floors (`tests/test_eval.py`), checked on every run: on seeds-dev, verbatim 1.000 in every "
            f"mode, off-topic abstention >= {e.SEEDS_FLOOR_ABSTAIN:.2f}, answer-in-quotes >= "
            f"{e.SEEDS_FLOOR_FUSED:.2f} with no false abstention in the fused modes (rerank, hybrid) and >= "
            f"{e.SEEDS_FLOOR_SINGLE:.2f} with false abstention <= {e.SEEDS_CEILING_FALSE_ABSTAIN_SINGLE:.2f} "
            f"with one retriever (keyword, dense); on the RealTime QA slice ({e.SLICE_QUESTIONS} questions, their "
            f"gold articles and {e.SLICE_DISTRACTORS} BBC distractors, int8), verbatim 1.000, answer-in-quotes >= "
            f"{e.FLOOR_ANSWER_IN_QUOTES:.2f}, false abstention <= {e.CEILING_FALSE_ABSTAIN:.2f} and off-topic "
            f"abstention >= {e.FLOOR_ABSTAIN:.2f}.\n")


def reliability() -> str:
    """The whole table, as a table cannot hold a comment line among its rows."""
    r = test_reliability
    asked, empty = len(r.DURING_REINDEX), r.DURING_REINDEX.count("")
    rows = [
        ("fault", "tried", "survived"), ("---", "---", "---"),
        ("truncated FAISS file / SQLite rows deleted / manifest edited", "3",
         '3: refused with a rebuild hint, previous generation served, status "degraded"'),
        ("model changed", "1", "1: refused with `newsdesk index --rebuild`"),
        ("a fault at each step of the commit (" + ", ".join(test_generation_switch.STEPS) + ")",
         str(len(test_generation_switch.STEPS)), f"{len(test_generation_switch.STEPS)}: old or new corpus, never a mix; "
         "loads, verifies, answers"),
        ("a real `python -m index index` process SIGKILLed at spread-out moments (half or more killed mid-run)",
         str(test_generation_switch.KILL_ROUNDS), f"{test_generation_switch.KILL_ROUNDS}: old or new corpus, never "
         "a mix; loads, verifies, answers"),
        (f"{asked} questions (incl. {empty} empty) during a re-index", str(asked),
         f"{asked}: {asked - empty} answers each from one generation, {empty} clear refusals, 0 errors"),
        ("second re-index while one runs (core and /reindex)", "2", "2: refused, not queued"),
        ("generated article files (binary, Latin-1, UTF-16, empty, oversize, broken front matter, script-only "
         "HTML, duplicates, good md/html)", str(r.GENERATED_FILES),
         f"{r.GENERATED_FILES}: each indexed or reported with a reason; seeds kept; index consistent"),
        ("fuzzed questions (hypothesis: any text, control/zero-width, 10k chars, mentions, markdown, FTS syntax, "
         "other scripts)", f"{r.FUZZED_QUESTIONS} per run",
         f"{r.FUZZED_QUESTIONS}: an answer with verbatim quotes within the limits, or a refusal with its reason"),
        ("Discord: 429 on message POST and on followup webhook; dropped gateway + RESUME; heartbeat during a "
         "40-article re-index", "4", "4 (emulator)"),
    ]
    return "".join(f"| {' | '.join(row)} |\n" for row in rows)


RENDERERS: dict[str, Callable[[], str]] = {"ci-floors": ci_floors, "reliability": reliability}


def rendered(text: str) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in RENDERERS:
            raise SystemExit(f"unknown figures block {name!r}")
        return match.group(1) + RENDERERS[name]() + match.group(4)

    return BLOCK.sub(fill, text)


def main() -> int:
    stale = []
    for path in sorted((ROOT / "docs").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        new = rendered(text)
        if new != text:
            stale.append(path.name)
            if "--check" not in sys.argv:
                path.write_text(new, encoding="utf-8")
    if stale and "--check" in sys.argv:
        print(f"generated figures are stale in {', '.join(stale)}; run python scripts/doc_figures.py")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

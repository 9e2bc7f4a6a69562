"""The evaluation sets of docs/evaluation.md, run again by one command: each table row names its `--tag`.

    python benchmarks/trials.py run --work DIR --tag TAG [--set NAME=VALUE ...] [--mode rerank ...]
        [--only SET ...] [--limit N]
    python benchmarks/trials.py table --tag TAG [--tag OTHER ...]
    python benchmarks/trials.py split --tag TAG [--tag OTHER ...] [--set mh]

`run` indexes each corpus once into DIR/<corpus> (reused while unchanged: a trial of settings that do not
shape the index costs only the questions), asks every question of every set in each mode with the settings
given by `--set` (flat names, as the NEWSDESK_ variables without the prefix), and writes the figures and
every answer under benchmarks/results/trials/TAG/ (the answers are what scripts/fit_answerability.py fits
on). `table` prints the rows as docs/evaluation.md shows them; `split` prints the per-kind figures of a run's
answers on the even and the odd lines of the questions file apart, so a choice fitted on one half is reported
on the other. The data is read from ../shared, never copied.
The backend and threads come from the environment like any setting (the figures used
NEWSDESK_EMBED_BACKEND=onnx-int8 NEWSDESK_EMBED_THREADS=1).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.results import FOLDER  # noqa: E402
from index.config import PROJECT_ROOT  # noqa: E402
from index.evaluate import (  # noqa: E402
    Scored,
    corpus_desk,
    coverage,
    kind_figures,
    load_questions,
    run_eval,
    write_answers,
)
from index.models import Answer  # noqa: E402
from index.retrieve import Mode  # noqa: E402

SHARED = PROJECT_ROOT.parent / "shared"
DATA = SHARED / "evaldata"
CORPORA = {
    "rtqa_bbc": [DATA / "realtimeqa-news-2023/corpus.jsonl", DATA / "bbc-news-2225/bbc_news_2225.jsonl"],
    "bbc": [DATA / "bbc-news-2225/bbc_news_2225.jsonl"],
    "multihop": [DATA / "multihop-rag-facts/corpus.jsonl"],
    "seeds": [PROJECT_ROOT / "seeds"],
}
# set name -> (row label, corpus, questions), in the order of the tables
SETS = {
    "full_rtqa": ("RealTime QA 416 (answerable)", "rtqa_bbc", SHARED / "eval/realtimeqa-2023.jsonl"),
    "full_off": ("offtopic-60", "rtqa_bbc", SHARED / "eval/abstain/offtopic-60.jsonl"),
    "full_early": ("realtimeqa-2023-early (19)", "rtqa_bbc", SHARED / "eval/abstain/realtimeqa-2023-early.jsonl"),
    "bbc_off": ("offtopic-60", "bbc", SHARED / "eval/abstain/offtopic-60.jsonl"),
    "bbc_vs": ("realtimeqa-2023-vs-bbc (416)", "bbc", SHARED / "eval/abstain/realtimeqa-2023-vs-bbc.jsonl"),
    "mh": ("MultiHop-RAG facts (429 + 71 null)", "multihop", DATA / "multihop-rag-facts/questions.jsonl"),
    "seeds": ("seeds-dev (12 + 10)", "seeds", SHARED / "eval/seeds-dev.jsonl"),
}
LABELS = {"rtqa_bbc": "RTQA + BBC", "bbc": "BBC alone", "multihop": "MultiHop facts", "seeds": "seeds"}


def parse_settings(pairs: list[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if not value:
            raise SystemExit(f"--set needs NAME=VALUE, got {pair!r}")
        values[name.strip().lower()] = value.strip()
    return values


def run(args: argparse.Namespace) -> None:
    out = FOLDER / "trials" / args.tag
    out.mkdir(parents=True, exist_ok=True)
    settings = parse_settings(args.set)
    (out / "settings.json").write_text(json.dumps(
        {"set": settings, "modes": args.mode, "limit": args.limit,
         "environment": {k: v for k, v in sorted(os.environ.items()) if k.startswith("NEWSDESK_")}}, indent=2))
    for name in args.only or SETS:
        label, corpus, questions = SETS[name]
        desk = corpus_desk(args.work / corpus, **settings)
        result = run_eval(desk, CORPORA[corpus], questions, [Mode(m) for m in args.mode], args.limit,
                          on_answer=write_answers(out / f"{name}.jsonl"))
        (out / f"{name}.json").write_text(result.model_dump_json(indent=2))
        for figures in result.modes:
            print(name, figures.model_dump_json())


def table(args: argparse.Namespace) -> None:
    print("| tag | set | corpus | mode | abstain (unanswerable) | false-abstain | answer-in-quotes | verbatim | hit@5 "
          "| MRR@10 | latency p50 ms |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")

    def shown(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    for tag in args.tag:
        for name, (label, corpus, _) in SETS.items():
            path = FOLDER / "trials" / tag / f"{name}.json"
            if not path.exists():
                continue
            for m in json.loads(path.read_text())["modes"]:
                print(f"| {tag} | {label} | {LABELS[corpus]} | {m['mode']} | {shown(m['abstain_offtopic'])} | "
                      f"{shown(m['false_abstain'])} | {shown(m['answer_in_quotes'])} | {shown(m['verbatim'])} | "
                      f"{shown(m['hit_at_5'])} | {shown(m['mrr_at_10'])} | {m['latency_ms_median']:.0f} |")


def split(args: argparse.Namespace) -> None:
    """Per-kind figures of a run's answers on the even and the odd lines of the questions file (counted from 0)."""
    questions = load_questions(SETS[args.set][2])
    print("| tag | lines | kind | questions | fact recall | all facts | outlet recall | named outlet recall | "
          "date order |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for tag in args.tag:
        answers: dict[str, Answer] = {}
        for line in (FOLDER / "trials" / tag / f"{args.set}.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            answers[record.pop("id")] = Answer.model_validate({k: v for k, v in record.items() if k != "mode"})
        for parity in ("even", "odd"):
            chosen = [q for number, q in enumerate(questions) if number % 2 == (parity == "odd") and q.id in answers]
            scored = [Scored(id=q.id, mode="", answer=answers[q.id], answer_in_quotes=None, rank=None, verbatim_ok=0,
                             quotes=len(answers[q.id].quotes), coverage=coverage(q, answers[q.id])) for q in chosen]
            for k in kind_figures(chosen, scored):
                print(f"| {tag} | {parity} | {k.kind} | {k.questions} | {k.fact_recall:.3f} | {k.all_facts:.3f} | "
                      f"{k.outlet_recall:.3f} | {k.named_outlet_recall:.3f} | {k.date_order:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = parser.add_subparsers(dest="verb", required=True)
    ask = verbs.add_parser("run", help="index the corpora once, ask every set")
    ask.add_argument("--work", type=Path, required=True, help="index folders, one per corpus")
    ask.add_argument("--tag", required=True)
    ask.add_argument("--set", action="append", default=[], help="a setting by its flat name, e.g. rerank_weight=0.02")
    ask.add_argument("--mode", action="append", default=None, choices=[m.value for m in Mode])
    ask.add_argument("--only", action="append", choices=list(SETS))
    ask.add_argument("--limit", type=int)
    show = verbs.add_parser("table", help="print the rows of one or more runs")
    show.add_argument("--tag", action="append", required=True)
    halves = verbs.add_parser("split", help="per-kind figures on the even and the odd question lines")
    halves.add_argument("--tag", action="append", required=True)
    halves.add_argument("--set", default="mh", choices=list(SETS))
    args = parser.parse_args()
    if args.verb == "run":
        args.mode = args.mode or [Mode.rerank.value]
        run(args)
    elif args.verb == "split":
        split(args)
    else:
        table(args)


if __name__ == "__main__":
    main()

"""Fit the answer-or-abstain model (index/answerability.json) from `newsdesk eval --answers-out` files.

Each `--set NAME ANSWERS QUESTIONS` pairs one eval run's answers with its questions (the label is the
question's `answerable`). Questions are split in two by a hash of their base id (a RealTime QA question
and its `-bbc` / `-early` variants fall on the same side): the model and its cut are fitted on side 0
and every figure printed for side 1, the held-out half. The command line is recorded in the output.

    python scripts/fit_answerability.py --set rtqa answers.jsonl realtimeqa-2023.jsonl ... \
        --out index/answerability.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from index.answerability import FEATURES

MAX_FALSE_ABSTAIN = 0.03  # on the fitting half, per answerable set: leaves room under the 0.05 target


@dataclass
class Row:
    set: str
    id: str
    answerable: bool
    quotable: bool
    found: bool | None
    signals: np.ndarray
    half: int


def half(question_id: str) -> int:
    base = re.sub(r"-(bbc|early)$", "", question_id)
    return hashlib.blake2b(base.encode(), digest_size=4).digest()[0] % 2


def read(name: str, answers: Path, questions: Path, mode: str) -> list[Row]:
    labels, expected = {}, {}
    for line in questions.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            labels[record["id"]] = bool(record["answerable"])
            expected[record["id"]] = record.get("answer")
    rows = []
    for line in answers.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["mode"] != mode or record.get("answerability") is None or not record["answerability"]["signals"]:
            continue
        decision = record["answerability"]
        wanted = expected[record["id"]]
        found = wanted.lower() in " ".join(q["text"] for q in record["quotes"]).lower() if wanted else None
        rows.append(Row(name, record["id"], labels[record["id"]], decision["quotable"], found,
                        np.array([decision["signals"][f] for f in FEATURES]), half(record["id"])))
    return rows


def weights(rows: list[Row]) -> np.ndarray:
    """Each set counts by the square root of its size (416 wrong-era questions must not drown 60 off-topic
    ones, nor 12 seed questions outweigh 416), and both classes weigh the same in all."""
    sizes: dict[tuple[str, bool], int] = {}
    for row in rows:
        sizes[(row.set, row.answerable)] = sizes.get((row.set, row.answerable), 0) + 1
    raw = np.array([1 / np.sqrt(sizes[(r.set, r.answerable)]) for r in rows])
    labels = np.array([r.answerable for r in rows])
    for label in (False, True):
        raw[labels == label] /= raw[labels == label].sum()
    return raw * len(rows) / 2


def answers(rows: list[Row], probabilities: np.ndarray, cut: float) -> np.ndarray:
    """The desk's decision (index/answerability.decide): quotes, a probability over the cut, no unknown outlet."""
    outlet = FEATURES.index("outlet_unknown")
    return np.array([r.quotable and not r.signals[outlet] for r in rows]) & (probabilities >= cut)


def choose_cut(rows: list[Row], probabilities: np.ndarray) -> float:
    """The highest cut at which no answerable set abstains on more than MAX_FALSE_ABSTAIN of its questions."""
    sets = {r.set for r in rows if r.answerable}
    for cut in np.round(np.arange(0.95, 0.0, -0.01), 2):
        answered = answers(rows, probabilities, cut)
        if all(np.mean([not answered[i] for i, r in enumerate(rows) if r.set == s and r.answerable])
               <= MAX_FALSE_ABSTAIN for s in sets):
            return float(cut)
    return 0.0


def table(rows: list[Row], probabilities: np.ndarray, cut: float) -> list[dict[str, object]]:
    answered = answers(rows, probabilities, cut)
    lines = []
    for name in dict.fromkeys(r.set for r in rows):
        for label in (False, True):
            picked = [i for i, r in enumerate(rows) if r.set == name and r.answerable is label]
            if picked:
                abstained = float(np.mean([not answered[i] for i in picked]))
                line: dict[str, object] = {"set": name, "answerable": label, "questions": len(picked),
                                           "abstain" if not label else "false_abstain": round(abstained, 3)}
                scored = [i for i in picked if rows[i].found is not None]
                if scored:  # the quotes of the eval run, kept only where the model answers
                    line["answer_in_quotes"] = round(float(np.mean([rows[i].found and answered[i] for i in scored])), 3)
                    line["answer_in_quotes_before"] = round(float(np.mean([bool(rows[i].found) for i in scored])), 3)
                lines.append(line)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", nargs=3, action="append", metavar=("NAME", "ANSWERS", "QUESTIONS"), required=True)
    parser.add_argument("--mode", default="rerank")
    parser.add_argument("--C", type=float, default=1.0, help="Inverse L2 strength of the logistic regression.")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rows = [row for name, a, q in args.set for row in read(name, Path(a), Path(q), args.mode)]
    fit = [r for r in rows if r.half == 0]
    held = [r for r in rows if r.half == 1]
    model = LogisticRegression(C=args.C, max_iter=5000)
    model.fit(np.vstack([r.signals for r in fit]), [r.answerable for r in fit], sample_weight=weights(fit))
    cut = choose_cut(fit, model.predict_proba(np.vstack([r.signals for r in fit]))[:, 1])
    held_table = table(held, model.predict_proba(np.vstack([r.signals for r in held]))[:, 1], cut)
    fit_table = table(fit, model.predict_proba(np.vstack([r.signals for r in fit]))[:, 1], cut)
    result = {
        "weights": {f: round(float(w), 4) for f, w in zip(FEATURES, model.coef_[0], strict=True)},
        "bias": round(float(model.intercept_[0]), 4),
        "threshold": cut,
        "fitted_with": "python scripts/fit_answerability.py " + " ".join(sys.argv[1:]),
        "split": "blake2b(question id without -bbc/-early) first byte % 2: fitted on 0, reported on 1",
        "held_out": held_table,
        "fitting_half": fit_table,
    }
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("weights", "bias", "threshold")}, indent=1))
    for name, lines in (("held-out half", held_table), ("fitting half", fit_table)):
        print(f"\n{name}:")
        for line in lines:
            print("  " + "  ".join(f"{k}={v}" for k, v in line.items()))


if __name__ == "__main__":
    main()

"""Wire-copy detection on a set built from the BBC corpus (issue 13): precision, recall, and its share of the
index build.

    python benchmarks/wire_copies.py [--originals 300] [--copies 150]

Originals are BBC articles (exact duplicates inside BBC dropped); copies of some of them are made with the
edits syndication makes: another headline, a dateline, a boilerplate paragraph, and 1-10 % of words changed.
The other originals of the same category are the distinct articles on the same topic. The whole set is built
into a real index (int8), and the pairs `Generation.copies` reports are scored against the made ones. The
share of the build is the time spent in `index.copies` (signatures and regrouping) over the whole build.
The set is generated under a temporary folder at run time; no BBC text is kept.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.results import write  # noqa: E402
from index import copies  # noqa: E402
from index.config import PROJECT_ROOT  # noqa: E402
from index.evaluate import corpus_desk  # noqa: E402

BBC = PROJECT_ROOT.parent / "shared" / "evaldata" / "bbc-news-2225" / "bbc_news_2225.jsonl"
BOILERPLATE = ("This story was distributed by a news agency; it may have been edited for length and style. "
               "Follow us for more news from around the world.")


def edit(text: str, share: float, rng: random.Random) -> str:
    words = text.split(" ")
    for i in rng.sample(range(len(words)), max(1, int(share * len(words)))):
        words[i] = rng.choice(["reportedly", "officials", "however", "also", "said", "new", "the"])
    return " ".join(words)


def build_set(originals: int, made: int, seed: int = 7) -> tuple[list[dict[str, object]], set[frozenset[str]]]:
    rng = random.Random(seed)
    rows = [json.loads(line) for line in BBC.open()]
    seen: set[str] = set()
    unique = []
    for row in rows:
        key = " ".join(row["text"].split())
        if key not in seen:
            seen.add(key)
            unique.append(row)
    chosen = rng.sample(unique, originals)
    articles: list[dict[str, object]] = [
        {"doc_id": r["doc_id"], "title": r["title"], "text": r["text"], "outlet": "BBC", "published": "2005-01-10"}
        for r in chosen]
    truth = set()
    for number, row in enumerate(rng.sample(chosen, made)):
        text = edit(row["text"], rng.uniform(0.01, 0.10), rng)
        if number % 2:
            text = f"LONDON (Wire) - {text}"
        if number % 3 == 0:
            text = f"{text}\n\n{BOILERPLATE}"
        copy_id = f"copy-{number:03d}"
        articles.append({"doc_id": copy_id, "title": f"Wire: {row['title'].upper()}", "text": text,
                         "outlet": f"Wire {number % 7}", "published": "2005-01-11"})
        truth.add(frozenset((row["doc_id"], copy_id)))
    return articles, truth


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--originals", type=int, default=300)
    parser.add_argument("--copies", type=int, default=150)
    args = parser.parse_args()
    articles, truth = build_set(args.originals, args.copies)
    spent = [0.0]
    for name in ("store", "regroup", "backfill"):
        original = getattr(copies, name)

        def timed(*a: object, _f=original, **k: object) -> object:
            began = time.perf_counter()
            try:
                return _f(*a, **k)
            finally:
                spent[0] += time.perf_counter() - began

        setattr(copies, name, timed)
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "set.jsonl"
        corpus.write_text("".join(json.dumps(a) + "\n" for a in articles))
        desk = corpus_desk(Path(folder) / "idx", embed_backend="onnx-int8")
        began = time.perf_counter()
        report = desk.reindex([corpus])
        build = time.perf_counter() - began
        ids = [str(a["doc_id"]) for a in articles]
        found = {frozenset((a, b)) for a, others in desk.generation().copies(ids).items() for b in others}
    hits = len(found & truth)
    figures = {"articles": len(articles), "made_copies": len(truth), "found_pairs": len(found),
               "precision": round(hits / len(found), 4) if found else 1.0, "recall": round(hits / len(truth), 4),
               "false_pairs": sorted(sorted(p) for p in found - truth)[:20],
               "build_seconds": round(build, 2), "copies_seconds": round(spent[0], 3),
               "copies_share_of_build": round(spent[0] / build, 4), "chunks": report.chunks_total,
               "threshold": copies.THRESHOLD, "permutations": copies.PERMUTATIONS, "rows_per_band": copies.ROWS}
    print(json.dumps(figures, indent=2))
    write("wire_copies", figures)


if __name__ == "__main__":
    main()

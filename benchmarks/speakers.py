"""Speaker attribution (issue 13, "who said it"): precision and recall on 50 quoted sentences from RealTime QA
labelled by hand (benchmarks/questions/speakers-rtqa.jsonl: article id, offsets and the speaker named in the
sentence, or null when it names none: a pronoun, an organisation, no attribution), and on every sentence of
the seeds (listed for reading).

    python benchmarks/speakers.py

The sentences were drawn at random (seed 13) among RealTime QA sentences holding a quotation of three words or
more and a speech verb anywhere, a looser filter than the rule, so recall counts what the rule leaves out. A
prediction is right when it is the labelled name or its surname part. Texts are read from ../shared at run time.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.results import write  # noqa: E402
from index.chunk import sentence_spans  # noqa: E402
from index.config import PROJECT_ROOT  # noqa: E402
from index.ingest import read_articles  # noqa: E402
from index.speakers import speakers  # noqa: E402

LABELS = Path(__file__).resolve().parent / "questions" / "speakers-rtqa.jsonl"
COST_ARTICLES = 300  # the first RealTime QA articles, timed through speakers() (the model already loaded)
RTQA = PROJECT_ROOT.parent / "shared" / "evaldata" / "realtimeqa-news-2023" / "corpus.jsonl"


def same(predicted: str, gold: str) -> bool:
    return predicted == gold or gold.endswith(" " + predicted) or predicted.endswith(" " + gold)


def main() -> None:
    labels = [json.loads(line) for line in LABELS.read_text().splitlines() if line.strip()]
    wanted = {label["doc_id"] for label in labels}
    texts = {}
    with RTQA.open() as corpus:
        for line in corpus:
            row = json.loads(line)
            if row["doc_id"] in wanted:
                texts[row["doc_id"]] = row["text"]
    predicted = []
    for label in labels:
        text = texts[label["doc_id"]]
        spans = [(x.start, x.end) for x in sentence_spans(text)]
        spans = spans if (label["start"], label["end"]) in spans else [*spans, (label["start"], label["end"])]
        predicted.append(speakers(text, spans)[spans.index((label["start"], label["end"]))])
    rows = [{"gold": label["speaker"], "predicted": guess} for label, guess in zip(labels, predicted, strict=True)]
    named = [r for r in rows if r["predicted"]]
    right = [r for r in named if r["gold"] and same(r["predicted"], r["gold"])]
    with_gold = [r for r in rows if r["gold"]]
    seeds = []
    for article in (a for path in sorted((PROJECT_ROOT / "seeds").glob("*.md")) for a in read_articles(path, 10**7)[0]):
        spans = [(x.start, x.end) for x in sentence_spans(article.text)]
        found = speakers(article.text, spans)
        seeds += [{"article": article.id, "sentence": article.text[a:b][:90], "speaker": who}
                  for (a, b), who in zip(spans, found, strict=True) if who]
    began = time.perf_counter()
    with RTQA.open() as corpus:
        sample = [json.loads(line)["text"] for _, line in zip(range(COST_ARTICLES), corpus, strict=False)]
    for text in sample:
        speakers(text, [(x.start, x.end) for x in sentence_spans(text)])
    cost = (time.perf_counter() - began) / len(sample) * 1000
    figures = {"index_time_ms_per_article": round(cost, 2), "cost_articles": len(sample), "sentences": len(rows), "labelled_speakers": len(with_gold), "predicted": len(named),
               "correct": len(right), "precision": round(len(right) / len(named), 4) if named else None,
               "recall": round(len(right) / len(with_gold), 4) if with_gold else None,
               "wrong": [r for r in named if r not in right], "seeds": seeds}
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    write("speakers", figures)


if __name__ == "__main__":
    main()

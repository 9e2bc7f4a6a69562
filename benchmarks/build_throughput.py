"""Index-build throughput against the physical limit: raw SentenceTransformer.encode of the same
chunk texts with the same batch size, measured in the same run.

    python benchmarks/build_throughput.py [--corpus FILE.jsonl] [--articles 300] [--batch-size 32]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.results import write  # noqa: E402
from index.config import load_settings  # noqa: E402
from index.embed import SentenceTransformerEmbedder  # noqa: E402
from index.service import Newsdesk  # noqa: E402

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared/evaldata/realtimeqa-news-2023/corpus.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="newsdesk-build-"))
    sample = work / "sample.jsonl"
    sample.write_text("".join(args.corpus.read_text().splitlines(keepends=True)[: args.articles]))
    settings = load_settings(data_dir=work / "data", seeds_dir=None, articles_dir=work / "articles",
                             embed_batch_size=args.batch_size)
    embedder = SentenceTransformerEmbedder(settings.embed.model, args.batch_size)
    embedder.encode(["warm up"])
    desk = Newsdesk(settings, embedder=embedder)

    began = time.perf_counter()
    report = desk.reindex([sample])
    build_seconds = time.perf_counter() - began
    generation = desk.generation()
    with sqlite3.connect(generation.path / "meta.sqlite") as db:
        texts = [row[0] for row in db.execute("SELECT text FROM chunks_fts")]

    began = time.perf_counter()
    embedder._model.encode(texts, batch_size=args.batch_size, normalize_embeddings=True)
    raw_seconds = time.perf_counter() - began

    build_rate, raw_rate = report.chunks_embedded / build_seconds, len(texts) / raw_seconds
    figures = {"articles": args.articles, "chunks": report.chunks_embedded, "batch_size": args.batch_size,
               "build_seconds": round(build_seconds, 2), "raw_encode_seconds": round(raw_seconds, 2),
               "build_chunks_per_s": round(build_rate, 2), "raw_chunks_per_s": round(raw_rate, 2),
               "ratio": round(build_rate / raw_rate, 3)}
    print(json.dumps(figures, indent=2))
    write("build_throughput", figures)


if __name__ == "__main__":
    main()

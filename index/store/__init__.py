"""Index generations, switched atomically: the directory, the read side, the write side, and the seam
(base.py) that lets another backend (Milvus, store/milvus/) serve the same answer path."""

from pathlib import Path
from typing import Any

from index import vectors as vector_index
from index.store.base import Backend, Reader, StoreConfig, Writer
from index.store.directory import KEEP_GENERATIONS, Expected, Store, writer_lock
from index.store.filter import ArticleFilter
from index.store.generation import Generation
from index.store.writer import FORMAT_VERSION, GenerationWriter

__all__ = ["FORMAT_VERSION", "KEEP_GENERATIONS", "ArticleFilter", "Backend", "Expected", "Generation",
           "GenerationWriter", "Reader", "Store", "StoreConfig", "Writer", "open_store", "writer_lock"]


def open_store(config: StoreConfig, data_dir: Path, layout: vector_index.Layout = vector_index.Layout()) -> Backend[Any]:
    """The configured backend; pymilvus is imported only when Milvus is chosen (it is an optional extra)."""
    if config.backend == "milvus":
        from index.store.milvus import MilvusStore

        return MilvusStore(config, data_dir)
    return Store(data_dir, layout)

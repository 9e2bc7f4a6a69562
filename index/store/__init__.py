"""Index generations on disk, switched atomically: the directory, the read side, the write side."""

from index.store.directory import KEEP_GENERATIONS, Expected, Store
from index.store.filter import ArticleFilter
from index.store.generation import Generation
from index.store.writer import FORMAT_VERSION, GenerationWriter

__all__ = ["FORMAT_VERSION", "KEEP_GENERATIONS", "ArticleFilter", "Expected", "Generation", "GenerationWriter",
           "Store"]

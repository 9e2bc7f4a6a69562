"""Answers quote the articles word for word, say where each quote came from, or abstain."""

import sqlite3
from datetime import date

import pytest

from index.answer import AnswerConfig, Weights, compose, verified
from index.errors import BadQuestion, ConfigError
from index.models import Answer
from index.retrieve import Mode, RetrievalConfig, retrieve
from index.service import Newsdesk
from index.store import ArticleFilter

QUESTIONS = ["Why was Russia expelled from the G8?", "What did Pompeo say about Russia?",
             "How many ventilators did the United States ship to Russia?", "What did Andrew S. Weiss say about Putin?"]
G8 = "Russia was expelled in 2014 from what was known as the Group of 8 after Mr. Putin annexed Ukraine’s Crimean Peninsula."


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_quote_is_verbatim_at_its_offsets_and_attributed_to_its_article(
        seeds_desk: Newsdesk, question: str) -> None:
    answer = seeds_desk.ask(question)
    assert not answer.abstained and answer.quotes
    for quote in answer.quotes:
        article, _ = seeds_desk.source(quote.article_id)
        assert article.text[quote.start:quote.end] == quote.text
        assert (quote.title, quote.outlet, quote.published, quote.url) == (
            article.title, article.outlet, article.published, article.url)


def test_g8_question_quotes_the_crimea_passage(seeds_desk: Newsdesk) -> None:
    answer = seeds_desk.ask("Why was Russia expelled from the G8?")
    assert G8 in answer.quotes[0].text
    assert answer.quotes[0].article_id == "000_a40fa405f421a0a6"


def test_off_topic_question_abstains_and_lists_closest_sources(seeds_desk: Newsdesk) -> None:
    answer = seeds_desk.ask("What is the boiling point of tungsten?")
    assert answer.abstained and answer.quotes == []
    assert answer.sources


def test_quotes_are_grouped_by_article_without_repeats(seeds_desk: Newsdesk) -> None:
    answer = seeds_desk.ask("What did Trump say about readmitting Russia to the group?")
    order = [q.article_id for q in answer.quotes]
    assert order == sorted(order, key=order.index)  # each article's quotes are contiguous
    spans = [(q.article_id, q.start, q.end) for q in answer.quotes]
    assert all(a[0] != b[0] or a[2] <= b[1] or b[2] <= a[1] for i, a in enumerate(spans) for b in spans[i + 1:])
    assert len(answer.quotes) <= 4 and sum(len(q.text) for q in answer.quotes) <= 1500


def test_a_quote_that_is_not_verbatim_is_dropped(seeds_desk: Newsdesk) -> None:
    quote = seeds_desk.ask("Why was Russia expelled from the G8?").quotes[0]
    article, _ = seeds_desk.source(quote.article_id)
    tampered = quote.model_copy(update={"text": quote.text.replace("2014", "2015")})
    shifted = quote.model_copy(update={"start": quote.start + 1})
    assert verified([quote, tampered, shifted], {article.id: article}) == [quote]


def test_an_article_whose_stored_text_disagrees_with_its_chunks_is_never_quoted(make_desk) -> None:
    desk = make_desk()
    desk.reindex()
    assert G8 in desk.ask("Why was Russia expelled from the G8?").quotes[0].text
    database = desk.generation().database
    desk.generation().close()
    with sqlite3.connect(database) as db:  # shift the text one character against every stored offset
        db.execute("UPDATE articles_rows SET text = ' ' || text WHERE id = '000_a40fa405f421a0a6'")
    desk._generation = None
    answer = desk.ask("Why was Russia expelled from the G8?")
    assert "000_a40fa405f421a0a6" not in {q.article_id for q in answer.quotes}
    for quote in answer.quotes:
        assert desk.source(quote.article_id)[0].text[quote.start:quote.end] == quote.text


def test_outlet_and_date_filters_return_only_matching_articles(seeds_desk: Newsdesk) -> None:
    rt = seeds_desk.ask("What did Trump say about Russia?", outlets=["rt"])
    assert rt.quotes and {q.article_id for q in rt.quotes} == {"003_60249ec177c291d1"}
    later = seeds_desk.ask("What did Trump say about Russia?", since=date(2020, 1, 1))
    assert later.quotes and {q.article_id for q in later.quotes} == {"000_a40fa405f421a0a6"}
    none = seeds_desk.ask("What did Trump say about Russia?", outlets=["Nowhere News"])
    assert none.abstained and none.sources == []


@pytest.mark.parametrize("mode", list(Mode))
def test_filters_hold_when_the_recent_window_has_other_articles(seeds_desk: Newsdesk, mode: Mode) -> None:
    """As of 2020-06-03 the 7-day window holds only the undated-outlet article of 2020-06-01: an RT-only
    question must not let it in through the window's own rankings."""
    answer = seeds_desk.ask("What did Trump say about Russia and the G7?", outlets=["RT"], mode=mode,
                            as_of=date(2020, 6, 3))
    assert answer.sources and {s.outlet for s in answer.sources} == {"RT"}
    assert {q.outlet for q in answer.quotes} <= {"RT"}
    window = seeds_desk.ask("What did Trump say about Russia and the G7?", mode=mode, as_of=date(2020, 6, 3))
    assert "000_a40fa405f421a0a6" in {s.article_id for s in window.sources}


@pytest.mark.parametrize("question", ["", "   ", "\u200b\u200b", "?!?", "x" * 5000])
def test_bad_questions_are_refused_with_a_helpful_message(seeds_desk: Newsdesk, question: str) -> None:
    with pytest.raises(BadQuestion, match="question"):
        seeds_desk.ask(question)


def test_answer_serialises_to_json_with_every_quote_field(seeds_desk: Newsdesk) -> None:
    data = seeds_desk.ask("Why was Russia expelled from the G8?").model_dump(mode="json")
    assert {"question", "abstained", "confidence", "quotes"} <= data.keys()
    assert {"text", "article_id", "title", "outlet", "published", "url", "start", "end", "score"} <= \
        data["quotes"][0].keys()


def test_recent_rankings_favour_the_week_before_the_as_of_date_and_respect_the_mode(seeds_desk: Newsdesk) -> None:
    generation = seeds_desk.generation()
    question = "What did the United States withdraw from?"
    vector = seeds_desk.embedder.encode_queries([question])[0]
    week_of_june_2020 = ArticleFilter(as_of=date(2020, 6, 3))

    def scores(**config: object) -> dict[int, float]:
        passages, _ = retrieve(generation, question, vector, week_of_june_2020, RetrievalConfig(**config))
        return {p.chunk.id: p.score for p in passages}

    plain, recent = scores(recent_days=0), scores(recent_days=7)
    fresh = generation.chunk_ids_of(["000_a40fa405f421a0a6"])
    assert any(recent[i] > plain[i] for i in fresh & plain.keys() & recent.keys())
    assert all(recent[i] == plain[i] for i in (plain.keys() & recent.keys()) - fresh)
    keyword_only, _ = retrieve(generation, question, vector, week_of_june_2020,
                               RetrievalConfig(mode=Mode.keyword, recent_days=7))
    assert keyword_only and all(p.dense_rank is None for p in keyword_only)


def test_recency_and_lead_priors_order_quotes_but_never_change_whether_to_answer(seeds_desk: Newsdesk) -> None:
    generation = seeds_desk.generation()
    question = "Should Russia be invited back to the G7?"
    vector = seeds_desk.embedder.encode_queries([question])[0]
    as_of = date(2020, 6, 3)
    passages, ranking = retrieve(generation, question, vector, ArticleFilter(as_of=as_of), RetrievalConfig())

    def answer(weights: Weights) -> Answer:
        return compose(question, vector, passages, ranking, generation, AnswerConfig(weights=weights), as_of)

    plain, fresh_first = answer(Weights(recency=0, lead=0)), answer(Weights(recency=1.0, lead=0))
    assert fresh_first.confidence == plain.confidence
    assert fresh_first.quotes[0].published is not None
    assert (as_of - fresh_first.quotes[0].published).days <= 7
    assert {q.article_id for q in plain.quotes} != {fresh_first.quotes[0].article_id}
    lead_first = answer(Weights(recency=0, lead=1.0))
    assert lead_first.quotes[0].start <= min(q.start for q in plain.quotes)


def test_unused_quote_budget_carries_a_quote_on_into_the_paragraphs_that_follow(seeds_desk: Newsdesk) -> None:
    answer = seeds_desk.ask("What did Pompeo say when asked if Russia should be invited back?")
    quoted = " ".join(q.text for q in answer.quotes)
    assert "Yeah, the President thinks so." in quoted
    assert "we're going to work towards that end" in quoted
    assert sum(len(q.text) for q in answer.quotes) <= seeds_desk.settings.answer.max_chars


def test_rerank_lifts_passages_by_their_best_sentence_within_the_fused_pool(seeds_desk: Newsdesk) -> None:
    generation = seeds_desk.generation()
    question = "How many ventilators did the United States ship to Russia?"
    vector = seeds_desk.embedder.encode_queries([question])[0]

    def passages(**config: object) -> list[int]:
        every_passage = RetrievalConfig(passages=100, per_article=20, **config)
        found, _ = retrieve(generation, question, vector, ArticleFilter(), every_passage)
        return [p.chunk.id for p in found]

    hybrid, reranked = passages(mode=Mode.hybrid), passages(mode=Mode.rerank, rerank_weight=100.0)
    assert set(reranked) == set(hybrid) and reranked != hybrid
    best: dict[int, float] = {}
    for chunk_id, _, _, _, sentence in generation.sentences_within(list(generation.chunks(reranked).values())):
        best[chunk_id] = max(best.get(chunk_id, 0.0), float(sentence.astype("float32") @ vector))
    assert [best[i] for i in reranked] == sorted((best[i] for i in reranked), reverse=True)


def test_max_excerpt_sentences_caps_every_quote(seeds_desk: Newsdesk) -> None:
    """The setting's name is the behaviour: the leftover-budget pass stops at it too."""
    question = "What did Pompeo say when asked if Russia should be invited back?"

    def longest(desk: Newsdesk) -> int:
        generation = desk.generation()
        return max(sum(q.start <= s.start and s.end <= q.end for s in generation.sentence_spans(q.article_id))
                   for q in desk.ask(question).quotes)

    capped = Newsdesk(seeds_desk.settings.updated(max_excerpt_sentences=3), embedder=seeds_desk.embedder)
    assert longest(seeds_desk) > 3 >= longest(capped)
    with pytest.raises(ConfigError, match="NEWSDESK_MAX_EXCERPT_SENTENCES"):
        seeds_desk.settings.updated(max_excerpt_sentences=0)

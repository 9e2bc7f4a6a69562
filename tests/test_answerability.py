"""When the coverage does not answer, the desk abstains and says why; partial answers are labelled."""

import json
from datetime import date
from pathlib import Path

import pytest

from index import outlets
from index.answerability import (
    FEATURES,
    MODEL_FILE,
    Evidence,
    Model,
    decide,
    default_model,
)
from index.errors import BadQuestion
from index.evaluate import corpus_desk, run_eval
from index.models import AbstainReason
from index.retrieve import Mode
from index.service import Newsdesk
from index.store import ArticleFilter
from index.terms import question_terms


def test_capital_of_australia_is_not_answered_from_the_g7_coverage(seeds_desk: Newsdesk) -> None:
    answer = seeds_desk.ask("What is the capital of Australia?")
    assert answer.abstained and answer.quotes == [] and answer.sources
    assert answer.reason is not None and answer.why


def test_a_year_outside_the_coverage_is_the_stated_reason(seeds_desk: Newsdesk) -> None:
    answer = seeds_desk.ask("Who won Euro 2024?")
    assert answer.abstained and answer.reason is AbstainReason.out_of_range
    assert answer.why == "The coverage runs from 2019-08-28 to 2020-06-01; nothing is dated 2024."


def test_a_word_no_article_contains_is_named_as_written(seeds_desk: Newsdesk) -> None:
    answer = seeds_desk.ask("What did the researchers find out about carbon-14?")
    assert answer.abstained and answer.reason is AbstainReason.unknown_terms
    assert "“carbon-14”" in answer.why


def test_a_filter_that_admits_nothing_says_so(seeds_desk: Newsdesk) -> None:
    answer = seeds_desk.ask("Why was Russia expelled from the G8?", outlets=["New York Times"],
                            since=date(2021, 1, 1))
    assert answer.abstained and answer.reason is AbstainReason.no_match
    assert answer.why == "No article matches outlet 'New York Times' since 2021-01-01."


def test_a_start_date_after_the_end_date_is_a_usage_error(seeds_desk: Newsdesk) -> None:
    with pytest.raises(BadQuestion, match="after the end date"):
        seeds_desk.ask("Why was Russia expelled from the G8?", since=date(2021, 1, 1), until=date(2020, 1, 1))


def test_answered_questions_carry_the_decision_and_no_reason(seeds_desk: Newsdesk) -> None:
    answer = seeds_desk.ask("Why was Russia expelled from the G8?")
    assert not answer.abstained and answer.reason is None and answer.why is None
    assert answer.answerability.probability >= default_model().threshold
    assert tuple(answer.answerability.signals) == FEATURES


def test_quotes_without_the_kind_of_entity_asked_for_are_labelled_partial(seeds_desk: Newsdesk) -> None:
    generation = seeds_desk.generation()
    question = "When did Pompeo say Russia should be invited back into the G7?"
    trusting = Model(weights={name: 0.0 for name in default_model().weights}, bias=5.0, threshold=0.5)
    undated = Evidence(question, [], ["The President thinks that's what we should do."], 0.6, 0.6, [0.6],
                       ArticleFilter(), date(2020, 6, 1))
    dated = Evidence(question, [], ["Pompeo said on Tuesday, August 27, 2019, that he would."], 0.6, 0.6, [0.6],
                     ArticleFilter(), date(2020, 6, 1))
    assert decide(undated, generation, model=trusting).partial == "None of the quotes gives the date asked for."
    assert decide(dated, generation, model=trusting).partial is None


def test_question_terms_are_stemmed_as_the_keyword_index_stems_them(seeds_desk: Newsdesk) -> None:
    terms = question_terms("Why was Russia expelled from the G8?")
    assert set(terms) == {"russia", "expel", "g8"}
    frequencies = seeds_desk.generation().document_frequencies(terms)
    assert frequencies["russia"] > 10 and frequencies["expel"] >= 1


def test_the_committed_model_reads_exactly_the_signals_the_desk_computes() -> None:
    fitted = json.loads(MODEL_FILE.read_text())
    assert tuple(fitted["weights"]) == FEATURES
    assert 0 < fitted["threshold"] < 1 and fitted["fitted_with"].startswith("python scripts/fit_answerability.py")


def test_eval_records_a_refused_question_and_goes_on(tmp_path: Path, embedder) -> None:
    questions = tmp_path / "q.jsonl"
    rows = [{"id": "long", "question": "Why? " * 500, "answerable": True, "answer": "x"},
            {"id": "blank", "question": "  ", "answerable": False},
            {"id": "g8", "question": "Why was Russia expelled from the G8?", "answerable": True,
             "answer": "Crimean Peninsula"}]
    questions.write_text("".join(json.dumps(r) + "\n" for r in rows))
    from index.config import PROJECT_ROOT

    run = run_eval(corpus_desk(tmp_path / "idx", embedder), [PROJECT_ROOT / "seeds"], questions, [Mode.rerank])
    table = run.modes[0]
    assert table.questions == 3 and table.refused == 2
    assert table.answer_in_quotes == 0.5 and table.abstain_offtopic == 1.0


def test_a_question_about_an_outlet_the_index_lacks_is_not_answered_from_another(seeds_desk: Newsdesk) -> None:
    answer = seeds_desk.ask("What did the ESPN article report about Russia and the G8?")
    assert answer.abstained and answer.reason is AbstainReason.unknown_outlet
    assert answer.why == "No indexed article is from “ESPN”."
    assert not seeds_desk.ask("What did the RT article report about Russia and the G8?").abstained


def test_a_report_named_by_its_day_is_answered_though_no_article_writes_that_year(coverage_desk: Newsdesk) -> None:
    answer = coverage_desk.ask("Did the Harbour Daily report on the bridge closure on March 2, 2026 differ from the "
                               "later Valley Times report on the repair costs?")
    assert not answer.abstained, answer.why
    assert {"Harbour Daily", "Valley Times"} <= {q.outlet for q in answer.quotes}


def test_a_year_after_the_coverage_that_no_article_writes_is_not_answered(coverage_desk: Newsdesk) -> None:
    answer = coverage_desk.ask("What happened to the Port Avery bridge in 2031?")
    assert answer.abstained and answer.reason is AbstainReason.out_of_range, answer.why
    assert not coverage_desk.ask("What happened to the Port Avery bridge in 2026?").abstained


@pytest.mark.parametrize(("question", "indexed", "unknown"), [
    ("Does the TechCrunch article suggest X, while 'The Verge' report says Y?", ["TechCrunch", "The Verge"], []),
    ("Considering a New York Times article and a BBC News report on her work, who is she?",
     ["BBC News - Entertainment & Arts"], ["New York Times"]),
    ("Did the article from The Independent - Life and Style report it?", ["The Independent - Life and Style"], []),
    ("What did Britney say at the age of 16, according to an article by CBS Sports?", ["CBSSports.com", "The Age"],
     []),
    ("Which team won the report card of the week?", ["The Week"], []),
    ("Does the 'NBA Rookie of the Year Odds' article from Sporting News agree?", ["Sporting News"], []),
    ("Did Reuters' report and the 'Daily Planet' article agree?", ["Reuters"], ["Daily Planet"]),
])
def test_outlets_named_in_a_question_are_matched_to_the_indexed_ones(question: str, indexed: list[str],
                                                                     unknown: list[str]) -> None:
    assert outlets.unknown(question, indexed) == unknown

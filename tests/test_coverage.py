"""Questions about the coverage itself: outlets side by side, reports in time order (tests/coverage/)."""

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from index.facets import read
from index.service import Newsdesk

OUTLETS = ["Harbour Daily", "Coastal Wire", "Valley Times", "The Northern Post"]


def test_a_question_names_outlets_each_with_its_own_clause_and_the_day_written_in_it() -> None:
    reading = read("Did Valley Times report the repair costs on March 20, 2026, while The Northern Post "
                   "reported the reopening?", OUTLETS)
    named = [f for f in reading.facets if not f.claim]
    assert [(f.label, f.outlets, f.day) for f in named] == [
        ("Valley Times, 2026-03-20", ("Valley Times",), date(2026, 3, 20)),
        ("The Northern Post", ("The Northern Post",), None)]
    assert named[1].text == "The Northern Post reported the reopening?"
    assert reading.temporal
    assert not read("What happened to the bridge in Port Avery?", OUTLETS).facets


def test_a_question_about_what_an_outlet_published_over_time_is_about_order() -> None:
    assert read("Did Harbour Daily change its advice after publishing the ferry guide on March 3rd?", OUTLETS).temporal
    assert not read("Did the ferry change its timetable after the storm?", OUTLETS).temporal


def test_an_outlet_named_twice_is_two_facets_and_a_clause_naming_only_an_outlet_reads_on() -> None:
    reading = read("Does the Valley Times article on the bridge repair costs and the Valley Times article on the "
                   "cup final agree, while 'Harbour Daily' and 'Coastal Wire' stress the closure?", OUTLETS)
    named = [(f.label, f.text) for f in reading.facets if not f.claim]
    assert named == [("Valley Times", "Does the Valley Times article on the bridge repair costs"),
                     ("Valley Times", "the Valley Times article on the cup final agree"),
                     ("Harbour Daily", "'Harbour Daily' and 'Coastal Wire' stress the closure?"),
                     ("Coastal Wire", "'Coastal Wire' stress the closure?")]


def test_each_claim_of_a_question_about_coverage_is_searched_within_the_outlets_it_names() -> None:
    reading = read("Which town, reported by Valley Times, saw its harbour bridge closed after cracks were found, "
                   "ran an extra ferry service during the closure, and faced repair costs twice the estimate?",
                   OUTLETS)
    claims = [(f.text, f.outlets) for f in reading.facets if f.claim]
    assert claims == [("saw its harbour bridge closed after cracks were found", ("Valley Times",)),
                      ("ran an extra ferry service during the closure", ("Valley Times",)),
                      ("faced repair costs twice the estimate?", ("Valley Times",))]
    assert not any(f.claim for f in read("Which town saw its harbour bridge closed after cracks were found, "
                                         "and ran an extra ferry?", OUTLETS).facets)


def test_a_report_published_on_the_same_day_takes_the_day_written_before_it() -> None:
    reading = read("Between the Harbour Daily report on the closure published on March 2, 2026, and the Coastal Wire "
                   "report on the ferries published on the same day, did the coverage change?", OUTLETS)
    named = [(f.label, f.day) for f in reading.facets if not f.claim]
    assert named == [("Harbour Daily, 2026-03-02", date(2026, 3, 2)), ("Coastal Wire, 2026-03-02", date(2026, 3, 2))]


def test_a_question_about_change_also_searches_each_named_outlets_other_days() -> None:
    question = "Did Valley Times change its view of the bridge after its report on March 20, 2026?"
    others = [(f.outlets, f.day) for f in read(question, OUTLETS).facets
              if f.claim and f.label.endswith("(other days)")]
    assert others == [(("Valley Times",), None)]
    assert not any(f.label.endswith("(other days)")
                   for f in read("What did Valley Times report on March 20, 2026?", OUTLETS).facets)


def test_a_report_named_by_outlet_and_day_is_quoted_however_far_it_is_from_the_topic(
        coverage_desk: Newsdesk) -> None:
    answer = coverage_desk.ask("What did the Valley Times report published on May 10, 2026 say about the Port Avery "
                               "bridge closure?")
    assert "05_valley_times_football" in {q.article_id for q in answer.quotes}, [q.article_id for q in answer.quotes]
    assert not answer.missing


def test_a_named_outlet_is_quoted_from_its_closest_report_below_the_quote_floor(coverage_desk: Newsdesk) -> None:
    question = "Does Harbour Daily agree with The Northern Post about the traders' losses?"
    answer = coverage_desk.ask(question)
    assert "Harbour Daily" in {q.outlet for q in answer.quotes} and not answer.missing, answer.quotes
    strict = Newsdesk(coverage_desk.settings.model_copy(update={"answer": coverage_desk.settings.answer.model_copy(
        update={"outlet_floor": coverage_desk.settings.answer.floor})}), embedder=coverage_desk.embedder)
    assert strict.ask(question).missing == ["Harbour Daily"]


def test_an_outlet_named_twice_has_two_of_its_articles_quoted(coverage_desk: Newsdesk) -> None:
    answer = coverage_desk.ask("Does the Valley Times article on the Port Avery bridge repair costs and the "
                               "Valley Times article on the regional football cup final both name a councillor?", k=1)
    quoted = {q.article_id for q in answer.quotes if q.outlet == "Valley Times"}
    assert quoted == {"03_valley_times_costs", "05_valley_times_football"}, [q.article_id for q in answer.quotes]


def test_an_answer_quotes_every_outlet_the_question_names_in_the_order_named(coverage_desk: Newsdesk) -> None:
    answer = coverage_desk.ask("What did The Northern Post and Harbour Daily report about the Port Avery bridge?")
    outlets = [q.outlet for q in answer.quotes]
    assert {"The Northern Post", "Harbour Daily"} <= set(outlets), outlets
    assert answer.arrangement == "outlets" and not answer.missing
    assert outlets.index("The Northern Post") < outlets.index("Harbour Daily")


def test_k_caps_an_answer_about_the_coverage_but_every_named_outlet_keeps_a_quote(coverage_desk: Newsdesk) -> None:
    question = "What did The Northern Post and Harbour Daily report about the Port Avery bridge?"
    assert len(coverage_desk.ask(question).quotes) > 2
    answer = coverage_desk.ask(question, k=1)
    assert [q.outlet for q in answer.quotes] == ["The Northern Post", "Harbour Daily"], answer.quotes


def test_a_question_about_change_over_time_answers_in_publication_order(coverage_desk: Newsdesk) -> None:
    answer = coverage_desk.ask("How did the reports on the Port Avery bridge change after it was closed?")
    dates = [q.published for q in answer.quotes]
    assert len(set(dates)) > 1 and dates == sorted(dates), dates
    assert answer.arrangement == "time"


def test_compare_sets_outlets_side_by_side_and_says_which_have_nothing(coverage_desk: Newsdesk) -> None:
    comparison = coverage_desk.compare("the Port Avery bridge", ["Harbour Daily", "valley times", "The Week"])
    by_outlet = {side.outlet: side for side in comparison.outlets}
    assert list(by_outlet) == ["Harbour Daily", "Valley Times", "The Week"]
    assert all(q.outlet == "Harbour Daily" for q in by_outlet["Harbour Daily"].quotes)
    assert by_outlet["Valley Times"].quotes and all(q.outlet == "Valley Times" for q in by_outlet["Valley Times"].quotes)
    assert not by_outlet["The Week"].quotes and by_outlet["The Week"].why
    for side in comparison.covered:
        for quote in side.quotes:
            assert coverage_desk.source(quote.article_id)[0].text[quote.start:quote.end] == quote.text


def test_compare_without_outlets_takes_those_of_the_closest_coverage(coverage_desk: Newsdesk) -> None:
    comparison = coverage_desk.compare("the cost of repairing the Port Avery bridge")
    assert "Valley Times" in [side.outlet for side in comparison.covered]


def test_timeline_is_in_publication_order_earliest_first_and_leaves_out_other_stories(
        coverage_desk: Newsdesk) -> None:
    timeline = coverage_desk.timeline("the Port Avery harbour bridge closure")
    quotes = [q for period in timeline.periods for q in period.quotes]
    dates = [q.published for q in quotes]
    assert dates == sorted(dates) and len(set(dates)) >= 3
    assert timeline.earliest is quotes[0] and timeline.earliest.published.isoformat() == "2026-03-02"
    assert "05_valley_times_football" not in {q.article_id for q in quotes}
    assert timeline.by == "week" and [p.label for p in timeline.periods] == sorted(p.label for p in timeline.periods)
    assert sum(n for per in timeline.counts.values() for n in per.values()) == len({q.article_id for q in quotes})


def test_timeline_chart_is_a_png_written_by_the_command(coverage_desk: Newsdesk, tmp_path: Path) -> None:
    chart = tmp_path / "chart.png"
    result = subprocess.run(
        [sys.executable, "-m", "index", "timeline", "the Port Avery bridge", "--chart", str(chart)],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "NEWSDESK_DATA_DIR": str(coverage_desk.settings.data_dir),
             "NEWSDESK_SEEDS_DIR": str(coverage_desk.settings.seeds_dir)})
    assert result.returncode == 0, result.stderr
    assert "(earliest report)" in result.stdout
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

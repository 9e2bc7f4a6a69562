"""The evaluation command on a fixed slice: verbatim must be perfect and quality must not regress.

Floors come from measurements recorded in docs/evaluation.md.
"""

import json
from pathlib import Path

import pytest

from index.config import PROJECT_ROOT
from index.evaluate import Question, corpus_desk, figures, load_questions, run_eval, score
from index.models import Answer, Quote
from index.retrieve import Mode
from index.service import Newsdesk

from conftest import SHARED

EVAL = SHARED / "eval"
RTQA = SHARED / "evaldata" / "realtimeqa-news-2023" / "corpus.jsonl"
needs_shared = pytest.mark.skipif(not EVAL.exists(), reason="needs ../shared/eval")


@needs_shared
def test_seeds_dev_meets_the_floors_in_every_mode(tmp_path: Path, embedder) -> None:
    answers = tmp_path / "answers.jsonl"
    from index.evaluate import write_answers

    run = run_eval(corpus_desk(tmp_path / "idx", embedder), [PROJECT_ROOT / "seeds"], EVAL / "seeds-dev.jsonl",
                   list(Mode), on_answer=write_answers(answers))
    for table in run.modes:
        assert table.verbatim == 1.0, table.mode
        assert table.answer_in_quotes == 1.0, table  # 12/12 in every mode (docs/evaluation.md)
        assert table.abstain_offtopic >= 0.9 and table.false_abstain <= 0.1, table
    assert len(answers.read_text().splitlines()) == 22 * len(Mode)


@needs_shared
@pytest.mark.skipif(not RTQA.exists(), reason="needs ../shared/evaldata")
def test_realtimeqa_slice_is_verbatim_and_above_the_floor(tmp_path: Path, embedder) -> None:
    questions = load_questions(EVAL / "realtimeqa-2023.jsonl", limit=30)
    gold = {a for q in questions for a in q.articles}
    corpus = tmp_path / "slice.jsonl"
    with RTQA.open() as source, corpus.open("w") as target:
        target.writelines(line for line in source if json.loads(line)["doc_id"] in gold)
    questions_file = tmp_path / "q.jsonl"
    questions_file.write_text("".join(q.model_dump_json() + "\n" for q in questions))
    desk = corpus_desk(tmp_path / "idx", embedder)
    run = run_eval(desk, [corpus], questions_file, [Mode.rerank])
    table = run.modes[0]
    assert table.verbatim == 1.0
    assert table.answer_in_quotes >= 0.75, table  # measured 0.833 in rerank mode (docs/evaluation.md)
    again = run_eval(desk, [corpus], questions_file, [Mode.hybrid], limit=1)
    assert again.index.chunks_embedded == 0


def test_metrics_follow_the_eval_readme_definitions(seeds_desk: Newsdesk) -> None:
    question = Question(id="q", question="?", answerable=True, answer="Crimean Peninsula",
                        articles=["003_60249ec177c291d1.txt"])
    article, _ = seeds_desk.source("000_a40fa405f421a0a6")
    start = article.text.index("annexed")
    good = Quote(article_id=article.id, label="x", text=article.text[start:start + 36], start=start,
                 end=start + 36, score=1)
    shifted = good.model_copy(update={"start": start + 1})
    answer = Answer(question="?", abstained=False, confidence=1, quotes=[good, shifted], sources=[])
    assert question.gold == {"003_60249ec177c291d1"}
    scored = score(seeds_desk, question, answer, "hybrid")
    assert scored.answer_in_quotes is True and scored.rank == 0 and scored.verbatim_ok == 1
    table = figures("hybrid", [question], [scored])
    assert (table.verbatim, table.hit_at_10, table.mrr_at_10, table.false_abstain) == (0.5, 0.0, 0.0, 0.0)

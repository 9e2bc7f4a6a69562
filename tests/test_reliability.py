"""Faults and bad input never lose data, corrupt the index or raise out of the core."""

import json
import random
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.errors import BadQuestion, IndexCorrupt, IndexMismatch, ReindexBusy
from index.models import Answer

# The sizes of the reliability trials; docs/performance.md's table is generated from them.
DURING_REINDEX = ["Why was Russia expelled from the G8?", "Which ships docked at the harbour?", ""] * 67
GENERATED_FILES = 200
FUZZED_QUESTIONS = 60
SEEDS = {"000_a40fa405f421a0a6", "003_60249ec177c291d1"}


def article(title: str, body: str) -> str:
    return f"---\ntitle: {title}\noutlet: Test Wire\npublished: 2024-05-0{random.randint(1, 9)}\n---\n{body}\n"


def two_generations(make_desk, tmp_path: Path):
    """A desk whose live generation has one more article than the previous one."""
    desk = make_desk()
    old = desk.reindex().generation
    (tmp_path / "articles" / "volcano.md").write_text(article("Volcano", "Lava reached the town of Grindavik."))
    new = desk.reindex().generation
    return desk, old, tmp_path / "data" / "generations" / new


@pytest.mark.parametrize("damage", ["truncate-faiss", "delete-sqlite-rows", "edit-manifest"])
def test_a_damaged_generation_is_refused_and_the_previous_one_served_as_degraded(
        make_desk, tmp_path: Path, damage: str) -> None:
    desk, old, live = two_generations(make_desk, tmp_path)
    if damage == "truncate-faiss":
        data = (live / "vectors.faiss").read_bytes()
        (live / "vectors.faiss").write_bytes(data[: len(data) // 2])
    elif damage == "delete-sqlite-rows":  # two of the rows the live generation added (the previous one lacks them)
        manifest = json.loads((live / "manifest.json").read_text())
        with sqlite3.connect(live.parent.parent / manifest["database"]) as db:
            db.execute("DELETE FROM chunks_rows WHERE row IN (SELECT row FROM chunks_rows WHERE born = ? LIMIT 2)",
                       (manifest["sequence"],))
    else:
        manifest = (live / "manifest.json").read_text()
        (live / "manifest.json").write_text(manifest.replace('"chunks": ', '"chunks": 1'))
    restarted = make_desk()
    with pytest.raises(IndexCorrupt, match="rebuild|inconsistent"):
        restarted.store.load(restarted.expected(), check=True)
    assert restarted.generation().name == old
    status = restarted.status()
    assert status.degraded and "previous generation" in status.degraded
    assert not restarted.ask("Why was Russia expelled from the G8?").abstained


def test_a_changed_model_is_refused_not_served(make_desk, tmp_path: Path) -> None:
    two_generations(make_desk, tmp_path)
    with pytest.raises(IndexMismatch, match="--rebuild"):
        make_desk(model="another-model").generation()


def test_questions_during_a_reindex_all_succeed_each_from_one_generation(make_desk, tmp_path: Path) -> None:
    desk = make_desk()
    old = desk.reindex().generation
    for number in range(12):
        (tmp_path / "articles" / f"a{number}.md").write_text(
            article(f"Harbour report {number}", f"Ships number {number} docked at the harbour on Tuesday. " * 20))
    questions = DURING_REINDEX
    results: list[Answer | Exception] = []
    reindexed = threading.Event()

    def reindex() -> None:
        desk.reindex()
        reindexed.set()

    def ask(question: str) -> Answer | Exception:
        try:
            return desk.ask(question)
        except BadQuestion as exc:
            return exc

    with ThreadPoolExecutor(max_workers=4) as pool:
        job = pool.submit(reindex)
        results = list(pool.map(ask, questions))
        job.result()
    new = desk.store.current_name()
    answers = [r for r in results if isinstance(r, Answer)]
    empty = DURING_REINDEX.count("")
    assert len(answers) == len(DURING_REINDEX) - empty and sum(isinstance(r, BadQuestion) for r in results) == empty
    assert {a.generation for a in answers} <= {old, new} and new != old
    for answer in answers:
        for quote in answer.quotes:
            assert desk.source(quote.article_id)[0].text[quote.start:quote.end] == quote.text


def test_a_second_concurrent_reindex_is_refused(make_desk, tmp_path: Path) -> None:
    desk = make_desk()
    holding, release = threading.Event(), threading.Event()

    def slow(stage: str, done: int, total: int) -> None:
        holding.set()
        release.wait(30)

    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(desk.reindex, progress=slow)
        assert holding.wait(30)
        with pytest.raises(ReindexBusy, match="already running"):
            make_desk().reindex()
        release.set()
        assert first.result().added


@settings(max_examples=FUZZED_QUESTIONS, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.text(max_size=50),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl"]), max_size=30),
    st.text(min_size=1, max_size=20).map(lambda t: (t * 10_000)[:10_000]),
    st.sampled_from(["@everyone why?", "<@&123456789012345678> what happened?", "**bold** `code` ||x||",
                     "Почему Россию исключили из G8?", "俄罗斯为什么被G8开除？", "' OR 1=1 --", 'NEAR("a" "b")',
                     "\u200b\u200bWhy\u200b was Russia expelled?", "a" * 501, "Why? " * 401]),
))
def test_any_question_gets_an_answer_or_a_clear_refusal(seeds_desk, question: str) -> None:
    try:
        answer = seeds_desk.ask(question)
    except BadQuestion as exc:
        assert str(exc)
        return
    assert isinstance(answer, Answer)
    if answer.abstained:  # a refusal states its reason
        assert answer.quotes == [] and answer.reason is not None and answer.why
        return
    limits = seeds_desk.settings.answer
    assert answer.quotes and answer.reason is None and answer.why is None
    assert len(answer.quotes) <= limits.max_quotes
    assert sum(len(q.text) for q in answer.quotes) <= limits.max_chars
    for quote in answer.quotes:
        assert seeds_desk.source(quote.article_id)[0].text[quote.start:quote.end] == quote.text


def _bad_and_good_files(folder: Path, count: int) -> dict[str, str]:
    """`count` files of every kind; returns file name -> expected outcome."""
    rng = random.Random(5)
    expected: dict[str, str] = {}
    kinds = ["good", "binary", "latin1", "utf16", "empty", "huge", "front", "html-script", "duplicate", "html-good"]
    for number in range(count):
        kind = kinds[number % len(kinds)]
        name = f"f{number:03d}-{kind}"
        if kind == "good":
            path, data = folder / f"{name}.md", article(f"Report {number}", f"Unique event {number} {rng.random()}.")
        elif kind == "duplicate":
            path, data = folder / f"{name}.md", article("Report 0", "Unique event copy.")
            (folder / f"{name}-twin.md").write_text(data)
        elif kind == "binary":
            path, data = folder / f"{name}.txt", bytes(rng.randrange(256) for _ in range(200)) + b"\x00"
        elif kind == "latin1":
            path, data = folder / f"{name}.txt", "Zürich café résumé naïve".encode("latin-1")
        elif kind == "utf16":
            path, data = folder / f"{name}.md", "A story in UTF-16.".encode("utf-16")
        elif kind == "empty":
            path, data = folder / f"{name}.md", " \n"
        elif kind == "huge":
            path, data = folder / f"{name}.txt", "x" * 30_000
        elif kind == "front":
            path, data = folder / f"{name}.md", "---\ntitle: [broken\n---\nBody."
        elif kind == "html-script":
            path, data = folder / f"{name}.html", "<html><script>alert('x')</script><body></body></html>"
        else:
            path = folder / f"{name}.html"
            data = (f"<html><head><title>Page {number}</title></head><body><article><p>Paragraph about the "
                    f"city council meeting number {number}, which approved a new budget for parks and roads."
                    f"</p><p>Residents spoke for two hours about the plan before the vote.</p></article></body></html>")
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
        expected[path.name] = "indexed" if kind in {"good", "html-good", "duplicate"} else "failed"
    return expected


def test_two_hundred_generated_files_are_each_indexed_or_reported(make_desk, tmp_path: Path) -> None:
    desk = make_desk(max_file_bytes=20_000)
    desk.reindex()
    expected = _bad_and_good_files(tmp_path / "articles", GENERATED_FILES)
    report = desk.reindex()
    failed = {Path(f.source).name for f in report.failed}
    duplicates = {Path(d.source).name for d in report.duplicates}
    indexed = {Path(a.source).name for a, _ in desk.generation().articles()}
    for name, outcome in expected.items():
        if outcome == "failed":
            assert name in failed, name
        else:
            assert name in indexed or name in duplicates, name
    assert all(f.reason for f in report.failed)
    assert SEEDS <= {a.id for a, _ in desk.generation().articles()}
    desk.generation().verify()

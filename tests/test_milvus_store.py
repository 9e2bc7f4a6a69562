"""The Milvus backend (Milvus Lite, a real embedded Milvus in a local file) serves the answer path as the file
store does: every read the answer path makes returns the file store's result, a re-index touches only what
changed, and a generation being written is never seen until its commit.

The whole suite can also run on Milvus: `NEWSDESK_STORE=milvus python -m pytest tests/test_bot.py` builds
every desk's index in Milvus Lite (docs/deploy.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from test_generation_switch import add_articles, killed_after

from index.config import PROJECT_ROOT, load_settings
from index.embed import Embedder
from index.service import Newsdesk
from index.store import ArticleFilter

pytest.importorskip("pymilvus", reason="the Milvus store needs the `milvus` extra (part of `test`)")

QUESTIONS = ["Why was Russia expelled from the G8?", "Why did the bridge close?",
             "What did the Valley Times report about repair costs?", "Who won the football match?",
             "When will the bridge reopen?", "What is the capital of Australia?"]
FILTERS = [ArticleFilter(), ArticleFilter(outlets=("valley times",)), ArticleFilter(since=date(2026, 3, 2)),
           ArticleFilter(until=date(2026, 3, 20)), ArticleFilter(as_of=date(2026, 4, 3)),
           ArticleFilter(outlets=("Harbour Daily", "The Northern Post"), since=date(2026, 3, 3))]


def corpus_pair(root: Path, embedder: Embedder) -> tuple[Newsdesk, Newsdesk]:
    """The same corpus (seeds + tests/coverage) in the file store and in Milvus Lite."""
    seeds = root / "seeds"
    shutil.copytree(PROJECT_ROOT / "seeds", seeds)
    for path in (PROJECT_ROOT / "tests/coverage").iterdir():
        shutil.copy(path, seeds / path.name)
    desks = []
    for store in ("file", "milvus"):
        data = root / store
        desk = Newsdesk(load_settings(data_dir=data, seeds_dir=seeds, articles_dir=data / "articles", store=store),
                        embedder=embedder)
        assert len(desk.reindex().added) == 7
        desks.append(desk)
    return desks[0], desks[1]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> tuple[Newsdesk, Newsdesk]:
    return corpus_pair(tmp_path_factory.mktemp("pair"), embedder)


def test_milvus_answers_every_question_with_the_file_stores_quotes(pair: tuple[Newsdesk, Newsdesk]) -> None:
    file_desk, milvus_desk = pair
    assert milvus_desk.generation().name.startswith("m") and file_desk.generation().name.startswith("g")
    for question in QUESTIONS:
        for outlets in ((), ("Valley Times",)):
            expected, found = file_desk.ask(question, outlets=outlets), milvus_desk.ask(question, outlets=outlets)
            assert found.abstained == expected.abstained, question
            assert [(q.article_id, q.start, q.end) for q in found.quotes] == \
                [(q.article_id, q.start, q.end) for q in expected.quotes], question
            assert found.confidence == pytest.approx(expected.confidence, abs=1e-3)
            assert [s.article_id for s in found.sources] == [s.article_id for s in expected.sources]


def test_every_read_of_the_answer_path_matches_the_file_store(pair: tuple[Newsdesk, Newsdesk],
                                                              embedder: Embedder) -> None:
    file_gen, milvus_gen = (desk.generation() for desk in pair)
    ids = sorted(file_gen.content_hashes())
    assert milvus_gen.content_hashes() == file_gen.content_hashes()
    assert milvus_gen.articles_by_id(ids) == file_gen.articles_by_id(ids)
    assert milvus_gen.copy_groups() == file_gen.copy_groups() != []
    assert milvus_gen.copies(ids) == file_gen.copies(ids)
    assert milvus_gen.speakers(ids) == file_gen.speakers(ids)
    assert milvus_gen.outlets() == file_gen.outlets()
    assert milvus_gen.chunk_ids() == file_gen.chunk_ids()
    chunk_ids = sorted(file_gen.chunk_ids())
    assert milvus_gen.chunks(chunk_ids) == file_gen.chunks(chunk_ids)
    np.testing.assert_allclose(milvus_gen.chunk_vectors(chunk_ids[:5]), file_gen.chunk_vectors(chunk_ids[:5]),
                               atol=1e-6)
    chunks = list(file_gen.chunks(chunk_ids[:12]).values())
    for mine, theirs in zip(milvus_gen.sentences_within(chunks), file_gen.sentences_within(chunks), strict=True):
        assert mine[:4] == theirs[:4] and np.array_equal(mine[4], theirs[4])
    assert milvus_gen.sentence_spans(ids[0]) == file_gen.sentence_spans(ids[0])
    stems = ["bridg", "russia", "valley", "nosuchword"]
    assert milvus_gen.document_frequencies(stems) == file_gen.document_frequencies(stems)
    query = embedder.encode_queries(["Why did the bridge close?"])[0]
    for where in FILTERS:
        assert [a.id for a, _ in milvus_gen.articles(where)] == [a.id for a, _ in file_gen.articles(where)], where
        assert milvus_gen.coverage(where) == file_gen.coverage(where), where
        every = [(i, 0.0) for i in chunk_ids]
        assert milvus_gen.selection(where).admits(every) == file_gen.selection(where).admits(every), where
        dense = milvus_gen.dense(query, 10, milvus_gen.selection(where))
        assert [i for i, _ in dense] == [i for i, _ in file_gen.dense(query, 10, file_gen.selection(where))], where
        keyword = milvus_gen.keyword("bridge closure repair", 10, where)
        assert {i for i, _ in keyword} == {i for i, _ in file_gen.keyword("bridge closure repair", 10, where)}, where
    milvus_gen.verify()


def test_a_reindex_touches_only_what_changed_and_the_live_generation_never_sees_it(make_desk,
                                                                                    tmp_path: Path) -> None:
    desk = make_desk(store="milvus")
    assert len(desk.reindex().added) == 2
    seeds = tmp_path / "seeds"
    body = " ".join(f"The harbour council met on day {i} to discuss the ferry timetable." for i in range(25))
    body += " The ferry to Αθήνα (Athens) sails at noon."  # a stem Milvus must read unescaped
    (seeds / "harbour.md").write_text(f"---\ntitle: Harbour council\noutlet: Harbour Daily\n---\n{body}\n")
    before = desk.generation()
    report = desk.reindex()
    after = desk.generation()
    assert report.added == ["harbour"] and report.chunks_embedded > 0
    assert {a.id for a, _ in before.articles()} == {"000_a40fa405f421a0a6", "003_60249ec177c291d1"}
    assert before.article("harbour") is None and before.keyword("harbour ferry timetable", 5) == []
    assert after.article("harbour") is not None and after.keyword("harbour ferry timetable", 5)
    (seeds / "harbour.md").write_text(f"---\ntitle: Harbour council\noutlet: Harbour Daily\n---\n{body} "
                                      "The timetable changes in May.\n")
    changed = desk.reindex()
    assert changed.changed == ["harbour"] and 0 < changed.chunks_embedded < report.chunks_embedded
    assert "May" in desk.generation().article("harbour").text and "May" not in after.article("harbour").text
    assert frequencies_are_counts(desk.generation(), ["harbour", "ferri", "timet", "mai", "russia", "αθηνα"])
    (seeds / "harbour.md").unlink()
    assert desk.reindex().removed == ["harbour"]
    for generation in (before, after, desk.generation()):
        generation.verify()
    for generation in (after, desk.generation()):  # the first generation's stem rows went when two newer ones existed
        assert frequencies_are_counts(generation, ["harbour", "ferri", "timet", "mai", "russia", "council"])
    assert desk.generation().document_frequencies(["harbour"]) == {"harbour": 0}
    assert after.document_frequencies(["harbour"])["harbour"] > 0
    assert desk.generation().article("harbour") is None and after.article("harbour") is not None
    assert not desk.ask("Why was Russia expelled from the G8?").abstained


def frequencies_are_counts(generation, candidates: list[str]) -> bool:
    """The stored document frequencies equal the chunks of this generation holding each stem."""
    held = [set(row["terms"].split()) for row in generation.chunk_rows("", ["terms"])]
    stems = [s for s in candidates if any(s in terms for terms in held)] + ["zzzunseen"]
    return generation.document_frequencies(stems) == {s: sum(s in terms for terms in held) for s in stems}


def test_a_writer_that_dies_before_its_commit_is_never_seen_and_is_undone_by_the_next(make_desk,
                                                                                    tmp_path: Path) -> None:
    desk = make_desk(store="milvus")
    desk.reindex()
    live = desk.generation()
    writer = desk.store.writer(live, live.manifest.dimension)
    writer.remove_articles(["000_a40fa405f421a0a6"])  # then the process dies: no commit, no abort
    for fresh in (desk.store.load(desk.expected(), check=True), live):
        assert {a.id for a, _ in fresh.articles()} == {"000_a40fa405f421a0a6", "003_60249ec177c291d1"}
    assert desk.store.current_name() == live.name
    (tmp_path / "seeds" / "003_60249ec177c291d1.md").unlink()
    report = desk.reindex()
    assert report.removed == ["003_60249ec177c291d1"]
    latest = desk.store.load(desk.expected(), check=True)
    assert {a.id for a, _ in latest.articles()} == {"000_a40fa405f421a0a6"}
    assert not desk.ask("Why was Russia expelled from the G8?").abstained


KILL_ROUNDS = 4


def test_reindex_processes_killed_at_spread_out_moments_leave_old_or_new_in_milvus_lite(make_desk,
                                                                                       tmp_path: Path) -> None:
    """Real `newsdesk index` processes on the Milvus Lite file, SIGKILLed while they write; the desk of this
    process lets go of the file first (Milvus Lite opens it from one process at a time)."""

    def live_ids() -> set[str]:
        desk = make_desk(store="milvus")
        generation = desk.store.load(desk.expected(), check=True)
        ids = {article.id for article, _ in generation.articles()}
        assert desk.ask("Why was Russia expelled from the G8?").generation == generation.name
        desk.store.close()
        return ids

    desk = make_desk(store="milvus")
    desk.reindex()
    desk.store.close()
    articles = tmp_path / "articles"
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(tmp_path / "data"), "NEWSDESK_SEEDS_DIR": str(tmp_path / "seeds"),
           "NEWSDESK_ARTICLES_DIR": str(articles), "NEWSDESK_STORE": "milvus"}
    kills, delay = 0, 2.5  # start, Milvus Lite, model load, reading, embedding, writing, commit
    for round_number in range(KILL_ROUNDS):
        old = live_ids()
        new = old | add_articles(articles / f"round{round_number}", 8 + 2 * round_number)
        process = subprocess.Popen([sys.executable, "-m", "index", "index"], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        killed, delay = killed_after(process, delay)
        kills += killed
        assert live_ids() in (old, new)
    assert kills >= KILL_ROUNDS // 2
    finished = subprocess.run([sys.executable, "-m", "index", "index"], env=env, capture_output=True, text=True,
                              timeout=300)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert live_ids() == old | {f"harbour-{n:02d}" for n in range(8 + 2 * (KILL_ROUNDS - 1))}

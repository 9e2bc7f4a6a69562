"""Keyword search in its own tantivy folder: same filter meaning as the article table's, BM25 order, a
re-index that links the live files instead of copying them, and the upgrade of a format-2 index."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.errors import IndexMismatch
from index.store import ArticleFilter, versions
from index.store.keywords import FOLDER, KeywordIndex, KeywordWriter
from index.terms import stems
from tests.test_generation_switch import SEEDS, add_articles

OUTLETS = ("BBC", "The Verge", None)
DAYS = (date(2023, 1, 5), date(2023, 6, 1), date(2023, 11, 24), None)
# (article id, outlet, day): every outlet with every day, undated and unnamed ones included
ARTICLES = [(f"a{i}", outlet, day) for i, (outlet, day) in enumerate((o, d) for o in OUTLETS for d in DAYS)]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[KeywordIndex, sqlite3.Connection]:
    """A real keyword folder of 12 one-chunk articles, and the same articles in SQLite for the filter's SQL."""
    path = tmp_path_factory.mktemp("keywords") / FOLDER
    writer = KeywordWriter(path, None)
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE articles (id TEXT, outlet TEXT, published TEXT)")
    for number, (article_id, outlet, day) in enumerate(ARTICLES):
        writer.add(article_id, outlet, day, [(number, f"Harbour report {number}: the council met")])
        db.execute("INSERT INTO articles VALUES (?,?,?)", (article_id, outlet, day.isoformat() if day else None))
    writer.commit()
    return KeywordIndex(path), db


dates = st.one_of(st.none(), st.dates(date(2022, 12, 1), date(2024, 1, 1)))
filters = st.builds(ArticleFilter, outlets=st.lists(st.sampled_from(["bbc", "THE VERGE", "CNN"]), max_size=2)
                    .map(tuple), since=dates, until=dates, as_of=dates)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(where=filters)
def test_keyword_filters_admit_exactly_what_the_article_filter_admits(tiny, where: ArticleFilter) -> None:
    keywords, db = tiny
    clause, params = where.sql()
    admitted = {row[0] for row in db.execute(f"SELECT id FROM articles a WHERE {clause}", params)}
    found = keywords.search(stems("harbour council"), 100, where)
    assert {ARTICLES[chunk][0] for chunk, _ in found} == admitted


def test_keyword_search_ranks_by_bm25_and_counts_terms(tiny) -> None:
    keywords, _ = tiny
    found = keywords.search(stems("report 7"), 5)
    assert found[0][0] == 7 and found[0][1] > found[1][1]
    assert keywords.frequencies(["harbour", "7", "zebra"]) == {"harbour": len(ARTICLES), "7": 1, "zebra": 0}
    assert keywords.search([], 5) == []


def test_a_reindex_links_the_live_keyword_files_and_leaves_them_untouched(make_desk, tmp_path: Path) -> None:
    desk = make_desk()
    desk.reindex()
    old = desk.generation()
    before = old.keyword("Russia expelled G8", 10)
    add_articles(tmp_path / "articles", 2)
    desk.reindex()
    new = desk.generation()
    assert new.name != old.name
    old_files = {p.name: p.stat().st_ino for p in (old.path / FOLDER).iterdir()}
    new_files = {p.name: p.stat().st_ino for p in (new.path / FOLDER).iterdir()}
    shared = [name for name in old_files if name.endswith(".idx") and new_files.get(name) == old_files[name]]
    assert shared, "the new generation copied or rewrote the live segments"
    assert old.keyword("Russia expelled G8", 10) == before
    assert {chunk for chunk, _ in old.keyword("harbour story ships council", 50)} <= old.chunk_ids()
    harbour = new.chunk_ids() - old.chunk_ids()
    assert harbour & {chunk for chunk, _ in new.keyword("harbour story ships council", 50)}


def legacy_layout(generation, version: int) -> None:
    """Rewrite a generation as formats 2 and 3 left it on disk: its rows in its own meta.sqlite (2: keywords
    in an FTS5 table there, no keyword folder), no lineage file."""
    path = generation.path
    db = sqlite3.connect(generation.database)
    versions.show(db, generation.manifest.sequence)
    db.execute("ATTACH DATABASE ? AS legacy", (str(path / "meta.sqlite"),))
    for table in versions.TABLES:
        db.execute(f"CREATE TABLE legacy.{table} AS SELECT * FROM temp.{table}")
    if version == 2:
        db.execute("CREATE VIRTUAL TABLE legacy.chunks_fts USING fts5(text, tokenize = 'porter unicode61')")
    db.commit()
    db.close()
    generation.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{generation.database}{suffix}").unlink(missing_ok=True)
    if version == 2:
        for file in (path / FOLDER).iterdir():
            file.unlink()
        (path / FOLDER).rmdir()
    manifest = json.loads((path / "manifest.json").read_text())
    manifest.pop("database"), manifest.pop("sequence")
    (path / "manifest.json").write_text(json.dumps({**manifest, "format_version": version}))


@pytest.mark.parametrize("version", [2, 3])
def test_an_older_format_is_refused_with_the_command_that_upgrades_it_without_embedding(
        make_desk, version: int) -> None:
    desk = make_desk()
    desk.reindex()
    path = desk.generation().path
    legacy_layout(desk.generation(), version)

    fresh = make_desk()
    with pytest.raises(IndexMismatch, match="`newsdesk index` upgrades it"):
        fresh.generation()
    report = fresh.reindex()
    assert report.chunks_embedded == 0 and report.generation != path.name
    upgraded = fresh.generation()
    upgraded.verify()
    assert {a.id for a, _ in upgraded.articles()} == SEEDS
    assert upgraded.keyword("Russia expelled G8", 3)
    assert not fresh.ask("Why was Russia expelled from the G8?").abstained

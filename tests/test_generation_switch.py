"""A re-index that dies at any point leaves the old generation or the new one live, healthy, never a mix.

Each step of the commit (keyword index, vector file, fsyncs, manifest, the CURRENT pointer and its rename) is made to fail in
turn, and real re-index processes are killed with SIGKILL at spread-out moments; after each, a fresh desk must
load the live generation without falling back ("degraded"), verify it, and answer from exactly the old or
the new corpus.
"""

from __future__ import annotations

import builtins
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import pytest

from index.service import Newsdesk
from index.store import directory, disk, writer
from index.store.keywords import KeywordWriter

SEEDS = {"000_a40fa405f421a0a6", "003_60249ec177c291d1"}
# Re-index processes started and SIGKILLed at spread-out moments (docs/performance.md is generated from it).
KILL_ROUNDS = 6


class Crash(Exception):
    """Stands for the process dying at that step."""


def killed_after(process: subprocess.Popen[bytes], delay: float) -> tuple[bool, float]:
    """SIGKILL the process after `delay` unless it has finished; (killed, the next round's delay). The moments
    follow the machine's speed: later after a kill, sooner after a process that finished first (a fixed
    schedule stopped killing anything once the int8 encoder made re-indexes faster)."""
    time.sleep(delay)
    killed = process.poll() is None
    if killed:
        process.send_signal(signal.SIGKILL)
    process.wait(60)
    return killed, delay * 1.4 if killed else delay * 0.6


def add_articles(folder: Path, count: int) -> set[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        body = " ".join(f"Harbour story {number}, sentence {i}, about ships and the council." for i in range(30))
        (folder / f"harbour-{number:02d}.md").write_text(f"---\ntitle: Harbour {number}\n---\n{body}\n")
    return {f"harbour-{number:02d}" for number in range(count)}


def assert_old_or_new(desk: Newsdesk, old: set[str], new: set[str]) -> None:
    generation = desk.generation()
    assert desk.degraded is None, desk.degraded
    generation.verify()
    ids = {article.id for article, _ in generation.articles()}
    assert ids in (old, new), f"a mix: {sorted(ids ^ old)[:5]}"
    answer = desk.ask("Why was Russia expelled from the G8?")
    assert not answer.abstained and answer.generation == generation.name


class DyingFile:
    """A file opened (so truncated) for writing whose process dies at the first write."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def __enter__(self) -> DyingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()

    def write(self, _: object) -> int:
        raise Crash(f"write {self.handle.name}")


def dying_open(names: set[str]) -> Callable[..., Any]:
    """open() whose files named in `names` die on their first write. A pointer written in place (no file
    beside it, no rename) is left empty by this, which no reader may ever find."""
    real = builtins.open

    def opener(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real(file, mode, *args, **kwargs)
        return DyingFile(handle) if Path(str(file)).name in names and "w" in mode else handle

    return opener


STEPS = ["keywords", "write_index", "fsync_file_1", "fsync_file_2", "manifest", "fsync_manifest", "fsync_dir",
         "write_current", "fsync_current", "replace"]


@pytest.mark.parametrize("step", STEPS)
def test_a_commit_that_fails_at_any_step_leaves_old_or_new(make_desk, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    desk = make_desk()
    desk.reindex()
    new = SEEDS | add_articles(tmp_path / "articles", 3)
    calls = {"fsync_file": 0}
    real_fsync_file = disk.fsync_file

    def fsync_file(path: Path) -> None:
        calls["fsync_file"] += 1
        if step == f"fsync_file_{calls['fsync_file']}" or (step == "fsync_manifest" and path.name == "manifest.json"):
            raise Crash(step)
        real_fsync_file(path)

    def fsync(descriptor: int) -> None:
        if step == "fsync_current" and os.readlink(f"/proc/self/fd/{descriptor}").endswith("CURRENT.tmp"):
            raise Crash(step)
        os_fsync(descriptor)

    def fsync_dir(path: Path) -> None:
        if step == "fsync_dir":
            raise Crash(step)
        real_fsync_dir(path)

    def write_index(*args: Any) -> None:
        raise Crash(step)

    os_fsync, real_fsync_dir = os.fsync, disk.fsync_dir
    monkeypatch.setattr(writer, "fsync_file", fsync_file)
    monkeypatch.setattr(writer, "fsync_dir", fsync_dir)
    monkeypatch.setattr(directory, "fsync_dir", fsync_dir)
    monkeypatch.setattr(os, "fsync", fsync)
    if step == "write_index":
        monkeypatch.setattr(faiss, "write_index", write_index)
    if step == "keywords":
        monkeypatch.setattr(KeywordWriter, "commit", write_index)
    if step == "manifest":
        monkeypatch.setattr(Path, "write_text", lambda self, *a, **k: (_ for _ in ()).throw(Crash(step)))
    if step == "write_current":
        monkeypatch.setattr(builtins, "open", dying_open({"CURRENT", "CURRENT.tmp"}))
    if step == "replace":
        monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(Crash(step)))
    with pytest.raises(Crash):
        desk.reindex()
    monkeypatch.undo()
    assert_old_or_new(make_desk(), SEEDS, new)


def test_reindex_processes_killed_at_spread_out_moments_leave_old_or_new(make_desk, tmp_path: Path) -> None:
    desk = make_desk()
    desk.reindex()
    articles = tmp_path / "articles"
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(tmp_path / "data"), "NEWSDESK_SEEDS_DIR": str(tmp_path / "seeds"),
           "NEWSDESK_ARTICLES_DIR": str(articles)}
    command = [sys.executable, "-m", "index", "index"]
    kills, delay = 0, 1.5  # start, model load, reading, chunking, embedding, commit
    for round_number in range(KILL_ROUNDS):
        old = {article.id for article, _ in make_desk().generation().articles()}
        new = old | add_articles(articles / f"round{round_number}", 8 + 2 * round_number)
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        killed, delay = killed_after(process, delay)
        kills += killed
        assert_old_or_new(make_desk(), old, new)
    assert kills >= KILL_ROUNDS // 2

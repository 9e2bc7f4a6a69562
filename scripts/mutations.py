"""Break each guarantee on purpose in a scratch clone and check that a test fails: a test that cannot fail
guards nothing. Prints CAUGHT or SURVIVED per mutation; exits 1 if any survived.

    python scripts/mutations.py [NAME ...]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# name -> (file, text to replace, its replacement, the tests that must catch it)
MUTATIONS: dict[str, tuple[str, str, str, list[str]]] = {
    "current_written_in_place": (
        "index/store/directory.py",
        """        temporary = self.data_dir / "CURRENT.tmp"
        with open(temporary, "w") as handle:
            handle.write(name)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, pointer)""",
        """        with open(pointer, "w") as handle:
            handle.write(name)""",
        ["tests/test_generation_switch.py"]),
    "switch_before_the_files": (
        "index/store/writer.py",
        """        faiss.write_index(self.vectors, str(self.path / "vectors.faiss"))""",
        """        self._switch(self.path.name)
        faiss.write_index(self.vectors, str(self.path / "vectors.faiss"))""",
        ["tests/test_generation_switch.py"]),
    "compose_skips_the_verbatim_check": (
        "index/answer.py",
        """    quotes = verified(_select(candidates, articles, generation, config), articles, passages)""",
        """    quotes = _select(candidates, articles, generation, config)""",
        ["tests/test_answer.py"]),
    "recent_window_ignores_the_outlet_filter": (
        "index/retrieve.py",
        """        window = generation.selection(replace(where, since=max(since, where.since) if where.since else since))""",
        """        window = generation.selection(replace(where, outlets=(), since=max(since, where.since) if where.since \
else since))""",
        ["tests/test_answer.py"]),
    "abstention_without_a_reason": (
        "index/answer.py",
        """                  reason=decision.reason, why=decision.why,""",
        """                  reason=None, why=decision.why,""",
        ["tests/test_reliability.py::test_any_question_gets_an_answer_or_a_clear_refusal"]),
    "excerpt_cap_doubled_again": (
        "index/answer.py",
        """        _grow(pick, scores, covered, config.max_sentences, before + config.max_chars - used,""",
        """        _grow(pick, scores, covered, 2 * config.max_sentences, before + config.max_chars - used,""",
        ["tests/test_answer.py::test_max_excerpt_sentences_caps_every_quote"]),
}


def run(name: str) -> bool:
    """True when a test caught the mutation."""
    path, old, new, tests = MUTATIONS[name]
    with tempfile.TemporaryDirectory(prefix=f"mutation-{name}-") as work:
        subprocess.run(["git", "clone", "-q", str(ROOT), work], check=True)
        target = Path(work) / path
        text = target.read_text(encoding="utf-8")
        if old not in text:
            raise SystemExit(f"{name}: the code it mutates has changed; update scripts/mutations.py")
        target.write_text(text.replace(old, new), encoding="utf-8")
        result = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:warnings", *tests],
                                cwd=work, capture_output=True, text=True)
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    print(f"{name}: {'CAUGHT' if result.returncode else 'SURVIVED'} {failed[:1]}", flush=True)
    return result.returncode != 0


def main() -> int:
    names = sys.argv[1:] or list(MUTATIONS)
    return 0 if all([run(name) for name in names]) else 1


if __name__ == "__main__":
    raise SystemExit(main())

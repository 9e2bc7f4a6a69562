"""Reply wording lives in prompts/ as template files, so it can be edited without touching code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template

from index.errors import ConfigError

NAMES = ("answer_header", "not_covered", "no_sources", "help")


@dataclass(frozen=True, slots=True)
class Prompts:
    answer_header: Template
    not_covered: Template
    no_sources: Template
    help: Template

    @classmethod
    def load(cls, folder: Path) -> Prompts:
        """Read every template at start, so a missing file is reported before the first question."""
        templates = {}
        for name in NAMES:
            path = folder / f"{name}.md"
            try:
                templates[name] = Template(path.read_text(encoding="utf-8").strip())
            except OSError as exc:
                raise ConfigError(f"prompt template {path} is missing; restore it or set NEWSDESK_PROMPTS_DIR") from exc
        return cls(**templates)

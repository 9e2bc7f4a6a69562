"""Write `.env.example` from the settings models, so it lists every setting with its default and meaning.

    python scripts/env_example.py          # rewrite .env.example
    python scripts/env_example.py --check  # exit 1 if it differs from the models (run by the tests)
"""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import BaseModel
from pydantic.fields import FieldInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.settings import BotSettings, variable  # noqa: E402
from index.config import PREFIX, PROJECT_ROOT, Settings  # noqa: E402

TARGET = PROJECT_ROOT / ".env.example"
INTRO = """# Newsdesk settings. Copy to .env and edit; every variable is optional except the token for `newsdesk run`.
# Generated from the settings models by `python scripts/env_example.py`; a test fails if it falls behind."""
TITLES = {
    "": "where things live, and limits",
    "embed": "embedding model (changing it needs `newsdesk index --rebuild`)",
    "chunk": "chunking (changing it needs `newsdesk index --rebuild`)",
    "vectors": "vector index",
    "store": "where the index lives (docs/deploy.md)",
    "retrieval": "retrieval",
    "answer": "answers",
    "answer.weights": "how quotes are scored",
    "bot": "Discord (`newsdesk run`, `newsdesk sync`)",
}
SET = {"NEWSDESK_DATA_DIR", "NEWSDESK_MODEL"}  # written uncommented: the two a newcomer looks for first


def shown(value: object) -> str:
    """Defaults as a person writes them: paths relative to the checkout, secrets and None empty."""
    if value is None or value == []:
        return ""
    if isinstance(value, Path):
        try:
            return "./" + str(value.relative_to(PROJECT_ROOT))
        except ValueError:
            return str(value)
    if isinstance(value, bool):
        return str(value).lower()
    return str(getattr(value, "value", value))


def entries(model: type[BaseModel], prefix: str, section: str = "") -> dict[str, list[tuple[str, FieldInfo]]]:
    """Leaf settings by section, each with its environment name."""
    found: dict[str, list[tuple[str, FieldInfo]]] = {section: []}
    for name, info in model.model_fields.items():
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            for key, items in entries(kind, prefix, f"{section}.{name}".strip(".")).items():
                found.setdefault(key, []).extend(items)
        else:
            found[section].append((prefix + str(info.validation_alias or name).upper(), info))
    return found


def render() -> str:
    sections = entries(Settings, PREFIX)
    sections["bot"] = [(variable(name), info) for name, info in BotSettings.model_fields.items()]
    blocks = [INTRO]
    for section, items in sections.items():
        if not items:
            continue
        lines = [f"# --- {TITLES[section]} ---"]
        for env, info in items:
            lines.append(f"# {info.description}" if info.description else f"# {env}")
            default = "" if env.endswith("TOKEN") else shown(info.get_default(call_default_factory=True))
            lines.append(f"{'' if env in SET else '# '}{env}={default}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        if TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET.name} is out of date with the settings models; run python scripts/env_example.py")
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The core must stay usable without Discord."""

import ast

from index.config import PROJECT_ROOT


def test_index_package_never_imports_discord_or_bot() -> None:
    offenders = []
    for path in (PROJECT_ROOT / "index").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in {"discord", "bot"}]
    assert offenders == []

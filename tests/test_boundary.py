"""The shape of the house: the core never needs Discord, the bot goes through the facade, no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

from index.config import PROJECT_ROOT

PACKAGES = ("index", "bot")
BOT_MAY_IMPORT = {"index.service", "index.models", "index.errors"}
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in (PROJECT_ROOT / package).rglob("*.py")}


def imports(path: Path, known: set[str]) -> set[str]:
    """Project modules a file imports anywhere in it (functions too): `from index import vectors` is the
    module `index.vectors`, `from index.store import Store` the package `index.store`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.update(f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                         for a in node.names)
    return {name for name in found if name in known}


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(path, set(found)) - {name} for name, path in found.items()}


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


def test_bot_reaches_the_core_only_through_the_service_models_and_errors() -> None:
    reached = {(name, target) for name, targets in graph().items() if name.startswith("bot")
               for target in targets if target.startswith("index")}
    assert {(name, target) for name, target in reached if target not in BOT_MAY_IMPORT} == set()
    assert {target for _, target in reached} == BOT_MAY_IMPORT


def test_no_module_imports_itself_back_through_others() -> None:
    edges = graph()
    cycles: list[list[str]] = []

    def visit(name: str, trail: list[str]) -> None:
        for target in sorted(edges[name]):
            if target in trail:
                cycles.append([*trail[trail.index(target):], target])
            elif target not in done:
                visit(target, [*trail, target])
        done.add(name)

    done: set[str] = set()
    for name in sorted(edges):
        if name not in done:
            visit(name, [name])
    assert cycles == []


def test_no_module_in_the_product_is_over_400_lines() -> None:
    long = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}

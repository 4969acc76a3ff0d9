"""The package's layers, read from its import statements: no cycles, pure values kept pure."""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import feedamp_sync

PACKAGE = Path(feedamp_sync.__file__).parent


def modules() -> Iterator[tuple[str, ast.Module]]:
    """Every module of the package by dotted name, parsed."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, ast.parse(path.read_text(encoding="utf-8"))


def imported(tree: ast.Module) -> set[str]:
    """Every module a module imports, at any depth of its body (deferred imports count)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def unit_of(module: str) -> str | None:
    """The package-level unit a module belongs to: ``db``, ``outbox``, ``app``..."""
    parts = module.split(".")
    if parts[0] != "feedamp_sync" or len(parts) < 2:
        return None
    return parts[1]


def unit_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for name, tree in modules():
        source = unit_of(name)
        for target in map(unit_of, imported(tree)):
            if source is not None and target is not None and target != source:
                graph[source].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import cycle between units, as the path that closes it."""
    found: list[list[str]] = []
    done: set[str] = set()

    def visit(unit: str, path: list[str]) -> None:
        if unit in path:
            found.append([*path[path.index(unit) :], unit])
            return
        if unit in done:
            return
        for target in sorted(graph.get(unit, ())):
            visit(target, [*path, unit])
        done.add(unit)

    for unit in sorted(graph):
        visit(unit, [])
    return found


def test_no_two_parts_of_the_package_import_each_other() -> None:
    """No cycle between units (``db`` and ``outbox``, ``app`` and ``ops``...): each layer
    can be read, and tested, on top of the ones below it."""
    assert cycles(unit_graph()) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    """The check itself sees a cycle when one is there."""
    assert cycles({"db": {"outbox"}, "outbox": {"core", "db"}}) == [["db", "outbox", "db"]]


def test_the_shared_core_imports_no_edge_and_no_layer_above_it() -> None:
    """``core`` holds the values ``db`` and ``outbox`` share: standard library and the
    package's own plain values only, no SQLAlchemy, no httpx."""
    allowed = {"feedamp_sync.model"}
    for name, tree in modules():
        if unit_of(name) != "core":
            continue
        own = {m for m in imported(tree) if m.startswith("feedamp_sync")}
        foreign = {m.split(".")[0] for m in imported(tree)} - {"feedamp_sync", "__future__"}
        assert own <= allowed | {m for m in own if unit_of(m) == "core"}, name
        assert not foreign & {"sqlalchemy", "httpx", "pydantic"}, name

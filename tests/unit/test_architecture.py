"""The package's layers, read from its import statements: no cycles, pure values kept pure."""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import feedamp_sync
from feedamp_sync.outbox.kinds import KINDS

PACKAGE = Path(feedamp_sync.__file__).parent


@dataclass(frozen=True)
class Module:
    name: str
    is_package: bool
    tree: ast.Module

    @property
    def package(self) -> str:
        """Where the module's relative imports start: itself for a package's ``__init__``."""
        return self.name if self.is_package else self.name.rpartition(".")[0]


def modules() -> Iterator[Module]:
    """Every module of the package by dotted name, parsed."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        yield Module(name, is_package, ast.parse(path.read_text(encoding="utf-8")))


@cache
def module_names() -> frozenset[str]:
    return frozenset(module.name for module in modules())


def sample(source: str, name: str = "feedamp_sync.outbox.sample") -> Module:
    """A module that is not in the package, to show what the checks see in one."""
    return Module(name, is_package=False, tree=ast.parse(source))


def imported(module: Module) -> set[str]:
    """Every module a module imports, at any depth of its body (deferred imports count).

    ``from feedamp_sync import db`` imports ``feedamp_sync.db``, and a relative import is
    read from the module's own package, so neither form hides an edge.
    """
    found: set[str] = set()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module)
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names} & module_names()
    return found


def _absolute(node: ast.ImportFrom, module: Module) -> str:
    if node.level == 0:
        return node.module or ""
    parts = module.package.split(".")
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def unit_of(module: str) -> str | None:
    """The package-level unit a module belongs to: ``db``, ``outbox``, ``app``..."""
    parts = module.split(".")
    if parts[0] != "feedamp_sync" or len(parts) < 2:
        return None
    return parts[1]


def unit_graph(among: Iterable[Module] | None = None) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for module in modules() if among is None else among:
        source = unit_of(module.name)
        for target in map(unit_of, imported(module)):
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


def test_a_cycle_written_with_package_or_relative_imports_is_found() -> None:
    """``from feedamp_sync import db`` and ``from .. import outbox`` are edges as much as
    ``import feedamp_sync.db`` is."""
    graph = unit_graph(
        [
            sample("from feedamp_sync import db", "feedamp_sync.outbox.sample"),
            sample("from .. import outbox", "feedamp_sync.db.sample"),
        ]
    )
    assert cycles(graph) == [["db", "outbox", "db"]]


def test_a_relative_import_is_read_from_the_modules_own_package() -> None:
    assert imported(sample("from .kind import Kind")) == {"feedamp_sync.outbox.kind"}
    assert imported(sample("from ..db import tables")) >= {
        "feedamp_sync.db",
        "feedamp_sync.db.tables",
    }
    package = Module("feedamp_sync.db", is_package=True, tree=ast.parse("from . import tables"))
    assert "feedamp_sync.db.tables" in imported(package)


def test_the_shared_core_imports_no_edge_and_no_layer_above_it() -> None:
    """``core`` holds the values ``db`` and ``outbox`` share: standard library and the
    package's own plain values only, no SQLAlchemy, no httpx."""
    allowed = {"feedamp_sync.model"}
    for module in modules():
        if unit_of(module.name) != "core":
            continue
        own = {m for m in imported(module) if m.startswith("feedamp_sync")}
        foreign = {m.split(".")[0] for m in imported(module)} - {"feedamp_sync", "__future__"}
        assert own <= allowed | {m for m in own if unit_of(m) == "core"}, module.name
        assert not foreign & {"sqlalchemy", "httpx", "pydantic"}, module.name


OUTBOX_ORCHESTRATION = frozenset({"engine", "prepare", "enqueue"})
"""The outbox's modules that run its decisions against the database: they take its
connections and call ``db/``. Every other outbox module decides from plain values."""
OTHER_CHANNELS = {"feedamp_sync.outbox.webhook": frozenset({"httpx"})}
"""Delivery channels that are not FeedAMP speak HTTP themselves: a webhook sink is not
FeedAMP, so its channel lives beside its kind rather than in ``feedamp/``."""


def edges_of_a_decision(module: Module) -> set[str]:
    """What a decision module imports directly that it must not: the database layer,
    SQLAlchemy, and HTTP (FeedAMP is reached through ``feedamp/``)."""
    allowed = OTHER_CHANNELS.get(module.name, frozenset())
    return {
        name
        for name in imported(module)
        if (name.split(".")[0] in {"sqlalchemy", "httpx"} - allowed) or unit_of(name) == "db"
    }


def test_the_outboxs_decisions_import_neither_the_database_nor_http() -> None:
    """Every outbox module but the orchestration ones can be unit-tested without a database."""
    decisions = [
        module
        for module in modules()
        if unit_of(module.name) == "outbox"
        and module.name.rpartition(".")[2] not in OUTBOX_ORCHESTRATION
    ]
    assert {m.name for m in decisions} >= {"feedamp_sync.outbox.kinds", "feedamp_sync.outbox"}
    assert {m.name: edges_of_a_decision(m) for m in decisions} == {m.name: set() for m in decisions}


def test_the_decision_check_finds_the_database_and_http_in_a_decision() -> None:
    assert edges_of_a_decision(sample("from feedamp_sync import db")) == {"feedamp_sync.db"}
    assert edges_of_a_decision(sample("from ..db.orders import OrderStore")) == {
        "feedamp_sync.db.orders"
    }
    assert edges_of_a_decision(sample("from sqlalchemy import select")) == {"sqlalchemy"}
    assert edges_of_a_decision(sample("import httpx")) == {"httpx"}
    webhook = sample("import httpx", "feedamp_sync.outbox.webhook")
    assert edges_of_a_decision(webhook) == set()


def kind_names_written(module: Module) -> set[str]:
    """The outbox kinds a module names in a string literal: a kind's name, or the start of
    a key built from it (``f"confirm:{account}:..."``)."""
    return {
        node.value.split(":")[0]
        for node in ast.walk(module.tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.split(":")[0] in KINDS
    }


def test_the_database_layer_names_no_outbox_kind_of_its_own() -> None:
    """``db/`` writes the daemon's own messages (confirms, webhooks) by the kinds' constants
    and is handed the rest, so a kind renamed in one place is renamed everywhere."""
    named = {m.name: kind_names_written(m) for m in modules() if unit_of(m.name) == "db"}
    assert named == {name: set() for name in named}


def test_the_kind_name_check_finds_a_kind_named_in_a_string() -> None:
    written = sample('row = {"kind": "confirm", "unique_key": f"webhook:{sink}:{event}"}')
    assert kind_names_written(written) == {"confirm", "webhook"}
    assert kind_names_written(sample('"""Confirms and refunds."""\nkind = CONFIRM_KIND')) == set()

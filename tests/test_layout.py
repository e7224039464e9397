"""The package's layout rules (issue 17), read from the source: no import circle between modules or between
packages (a lazy import inside a function or a TYPE_CHECKING import counts as an edge too), no module over
the size limit, the search loop's file short enough to read, and the layers that must not import upward."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rolegraph"
MAX_MODULE_LINES = 400
MAX_LOOP_LINES = 300
LOOP_FILE = PACKAGE / "optimize" / "loop.py"
SUBPACKAGES = frozenset(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
ROOT_MODULES = frozenset(p.stem for p in PACKAGE.glob("*.py")) - {"__init__", "__main__"}
LOWER_LAYERS = {
    # package: packages it must never import (they sit above it)
    "chat": {"sim", "models", "tools", "tasks", "graphs", "agents", "evaluate", "optimize", "serve", "reports", "cli"},
    "sim": {"models", "graphs", "agents", "evaluate", "optimize", "serve", "reports", "cli"},
    "models": {"graphs", "agents", "evaluate", "optimize", "serve", "reports", "cli"},
    "tools": {"agents", "tasks", "graphs", "evaluate", "optimize", "serve", "reports", "cli"},
    "agents": {"graphs", "evaluate", "optimize", "serve", "reports", "cli"},
    "tasks": {"evaluate", "optimize", "reports", "cli"},
    "graphs": {"evaluate", "optimize", "serve", "reports", "cli"},
    "evaluate": {"optimize", "reports", "cli"},
    "optimize": {"reports", "cli"},
    "serve": {"cli"},
    # the root modules (errors, settings, items, fileio, ...) sit below every package: any layer may use them
    **{module: SUBPACKAGES for module in ROOT_MODULES},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _targets(node: ast.AST, name: str, is_init: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = name.split(".") if is_init else name.split(".")[:-1]
            base = base[: len(base) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        return [module] + [f"{module}.{a.name}" for a in node.names]
    return []


@pytest.fixture(scope="module")
def imports() -> nx.DiGraph:
    """Module -> module edges for every import anywhere in a module (top level, functions, TYPE_CHECKING)."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    for name, path in files.items():
        graph.add_node(name)
        for node in ast.walk(ast.parse(path.read_text())):
            for target in _targets(node, name, path.name == "__init__.py"):
                if target in files and target != name:
                    graph.add_edge(name, target)
    return graph


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_no_import_circle_between_modules(imports):
    assert list(nx.simple_cycles(imports)) == []


def test_no_import_circle_between_packages(imports):
    packages = nx.DiGraph((_package(a), _package(b)) for a, b in imports.edges if _package(a) != _package(b))
    assert list(nx.simple_cycles(packages)) == []


def test_lower_layers_never_import_upper_ones(imports):
    upward = [
        (a, b) for a, b in imports.edges if _package(b) in LOWER_LAYERS.get(_package(a), set())
    ]
    assert upward == []


def test_no_module_is_over_the_size_limit():
    sizes = {p.relative_to(PACKAGE.parent).as_posix(): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    assert {p: n for p, n in sizes.items() if n > MAX_MODULE_LINES} == {}


def test_the_search_loop_reads_in_one_sitting():
    assert len(LOOP_FILE.read_text().splitlines()) < MAX_LOOP_LINES


def test_every_layer_rule_names_real_packages():
    """A misspelt package in LOWER_LAYERS would switch its rule off without failing anything else."""
    known = SUBPACKAGES | ROOT_MODULES
    named = set(LOWER_LAYERS) | {p for above in LOWER_LAYERS.values() for p in above}
    assert named - known == set()
    assert {"chat", "sim", "models", "graphs", "evaluate", "optimize", "cli"} <= SUBPACKAGES

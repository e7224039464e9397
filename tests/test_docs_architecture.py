"""The docs page "How the package is laid out" (docs/concepts/architecture.md) against the source.

Contributors read that page instead of the import graph, so it must not drift: every package and root
module is named on it, every file it names exists, and its layer list agrees with the real imports (the
graph `tests/test_layout.py` builds, lazy and TYPE_CHECKING imports included). A new package, a renamed
module or an import that climbs the list fails here until the page is brought up to date.
"""

from __future__ import annotations

import re

import networkx as nx
import pytest

from tests.test_layout import PACKAGE, _package, imports  # noqa: F401 - `imports` is the module-graph fixture

ROOT = PACKAGE.parent
PAGE = ROOT / "docs" / "concepts" / "architecture.md"
LAYERS_HEADING = "## Layers"
LAYER_LINE = re.compile(r"^\d+\. `(?P<name>\w+)` \(may import: (?P<deps>[^)]*)\)")
NOT_LAYERED = {"rolegraph", "__main__"}
"""The package's own `__init__` (loaded by any `from rolegraph import x`) and `__main__` (runs the CLI)."""
FILE_NAME = re.compile(r"`(?P<path>[\w./]+?(?:\.py|\.yaml|/))`")
ROOT_DIRS = {"rolegraph", "tests", "docs", "examples", "benchmarks"}


def _subpackages() -> set[str]:
    return {p.parent.name for p in PACKAGE.glob("*/__init__.py")}


def _root_modules() -> set[str]:
    return {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}


def parse_layers(text: str) -> list[tuple[str, set[str]]]:
    """The numbered list under the page's Layers heading, bottom first: (name, what it may import)."""
    lines = text.splitlines()
    start = lines.index(LAYERS_HEADING)
    layers = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        match = LAYER_LINE.match(line)
        if match:
            deps = match["deps"].strip()
            layers.append((match["name"], set() if deps == "nothing" else set(re.findall(r"`(\w+)`", deps))))
    return layers


def package_graph(modules: nx.DiGraph) -> nx.DiGraph:
    """Package -> package edges of a module graph (a root module counts as its own package)."""
    graph = nx.DiGraph()
    graph.add_nodes_from(_package(m) for m in modules.nodes)
    graph.add_edges_from((_package(a), _package(b)) for a, b in modules.edges if _package(a) != _package(b))
    graph.remove_nodes_from(NOT_LAYERED)
    return graph


def layer_problems(packages: nx.DiGraph, layers: list[tuple[str, set[str]]]) -> list[str]:
    """Every way the layer list disagrees with the package graph, one line each (empty: it agrees)."""
    position = {name: i for i, (name, _) in enumerate(layers)}
    allowed = dict(layers)
    problems = [f"{name} is listed twice" for name in position if [n for n, _ in layers].count(name) > 1]
    problems += [f"{name} is not in the layer list" for name in sorted(set(packages.nodes) - set(position))]
    problems += [f"{name} is listed but is no package or root module" for name in sorted(set(position) - set(packages))]
    for name, deps in layers:
        problems += [
            f"{name} may import {dep}, which is not listed below it"
            for dep in sorted(deps)
            if position.get(dep, len(layers)) >= position[name]
        ]
    for a, b in sorted(packages.edges):
        if a in position and b in position and position[b] >= position[a]:
            problems.append(f"{a} imports {b}, which the page lists at or above it")
        elif a in allowed and b not in allowed[a]:
            problems.append(f"{a} imports {b}, which its 'may import' does not name")
    return problems


@pytest.fixture(scope="module")
def page() -> str:
    return PAGE.read_text(encoding="utf-8")


def test_the_page_is_in_the_site_nav():
    assert "concepts/architecture.md" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")


def test_every_package_and_root_module_is_named(page):
    missing = [f"{p}/" for p in sorted(_subpackages()) if f"`{p}/`" not in page]
    missing += [f"{m}.py" for m in sorted(_root_modules()) if f"`{m}.py`" not in page]
    assert missing == []


def test_every_file_the_page_names_exists(page):
    names = {m["path"] for m in FILE_NAME.finditer(page)}
    assert len(names) > 50  # the pattern still finds the page's file names
    every_file = {p.name for p in PACKAGE.rglob("*")} | {PACKAGE.name}
    absent = []
    for name in sorted(names):
        if "/" not in name.rstrip("/"):
            found = name.rstrip("/") in every_file
        elif name.split("/", 1)[0] in ROOT_DIRS:
            found = (ROOT / name).exists()
        else:
            found = (PACKAGE / name).exists()
        if not found:
            absent.append(name)
    assert absent == []


def test_the_layer_list_matches_the_real_imports(page, imports):  # noqa: F811 - the imported fixture
    layers = parse_layers(page)
    assert [name for name, _ in layers][:2] == ["errors", "settings"]  # the list was found and read
    assert layer_problems(package_graph(imports), layers) == []


def test_a_layer_list_that_disagrees_is_caught():
    """The checker itself: a list in the wrong order, one missing a package, or one hiding an import fails."""
    packages = nx.DiGraph([("models", "sim"), ("sim", "chat")])
    right = [("chat", set()), ("sim", {"chat"}), ("models", {"sim"})]
    assert layer_problems(packages, right) == []
    upside_down = [("chat", set()), ("models", {"sim"}), ("sim", {"chat"})]
    assert layer_problems(packages, upside_down) == [
        "models may import sim, which is not listed below it",
        "models imports sim, which the page lists at or above it",
    ]
    assert layer_problems(packages, right[:2]) == ["models is not in the layer list"]
    hidden = [("chat", set()), ("sim", set()), ("models", {"sim"})]
    assert layer_problems(packages, hidden) == ["sim imports chat, which its 'may import' does not name"]

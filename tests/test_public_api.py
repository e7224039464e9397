"""The public API is typed for its users: the package ships py.typed, and every lazily exported name of
rolegraph.optimize and rolegraph.evaluate is also imported for type checkers and listed by dir()."""
from __future__ import annotations

import ast
import importlib
from importlib import resources
from pathlib import Path

import pytest

LAZY_PACKAGES = {"rolegraph.optimize": "_EXPORTS", "rolegraph.evaluate": "_LAZY"}


def test_the_package_ships_its_type_marker():
    assert resources.files("rolegraph").joinpath("py.typed").is_file()
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    assert '"py.typed"' in pyproject  # in package-data, so a wheel carries it


@pytest.mark.parametrize("package, table", sorted(LAZY_PACKAGES.items()))
def test_every_lazy_name_is_typed_and_listed(package, table):
    module = importlib.import_module(package)
    lazy = getattr(module, table)
    tree = ast.parse(Path(module.__file__).read_text())
    typed = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
        for stmt in node.body if isinstance(stmt, ast.ImportFrom)
        for alias in stmt.names
        if stmt.module == lazy.get(alias.asname or alias.name)
    }
    assert typed == set(lazy)
    assert set(lazy) <= set(dir(module))
    for name in lazy:
        assert getattr(module, name) is getattr(importlib.import_module(lazy[name]), name)

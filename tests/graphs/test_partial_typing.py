"""The documented `exc.partial.nodes` (docs/concepts/budgets.md) type-checks: `partial` is not typed `object`."""
from __future__ import annotations

import pytest

SNIPPET = '''
from rolegraph.errors import BudgetExceededError


def nodes_that_ran(exc: BudgetExceededError) -> list[str]:
    return [n.id for n in exc.partial.nodes if n.calls]
'''


def test_partial_nodes_passes_mypy(tmp_path):
    api = pytest.importorskip("mypy.api")
    path = tmp_path / "uses_partial.py"
    path.write_text(SNIPPET)
    out, err, status = api.run([str(path), "--no-incremental", "--follow-imports=silent"])
    assert status == 0, out + err

"""`rolegraph eval A B` when only one graph's calls were answered from the response cache."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.support import run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "graphs"
SINGLE, VOTE = EXAMPLES / "single.yaml", EXAMPLES / "vote5.yaml"


def _row(out: str, label: str) -> list[str]:
    line = next(line for line in out.splitlines() if line.startswith(f"│ {label} "))
    return [c.strip() for c in line.strip("│ ").split("│")][1:]


@pytest.mark.parametrize("cached_first", [True, False])
def test_a_cache_row_for_one_graph_keeps_every_figure_in_its_row(capsys, cached_first):
    """Evaluate one graph alone (its calls are cached), then both: once the cached graph comes first, once
    second. It crashed with an IndexError, or shifted the other graph's figures up a row."""
    warm = SINGLE if cached_first else VOTE
    code, _, err = run_cli(capsys, "eval", warm, "--task", "gsm", "--n", 3)
    assert code == 0, err
    code, out, err = run_cli(capsys, "eval", SINGLE, VOTE, "--task", "gsm", "--n", 3)
    assert code == 0 and "Traceback" not in err, err
    code, lines, err = run_cli(capsys, "eval", SINGLE, VOTE, "--task", "gsm", "--n", 3, "--json")  # same figures
    assert code == 0, err
    single, vote = (json.loads(line) for line in lines.splitlines())
    cache = _row(out, "calls from the response cache")
    cold = 1 if cached_first else 0
    assert cache[cold] == f"0 of {(vote if cached_first else single)['calls']}"
    assert cache[1 - cold].endswith(f" of {(single if cached_first else vote)['calls']}")
    assert _row(out, "tokens (total)") == [f"{single['tokens']:,}", f"{vote['tokens']:,}"]
    # three significant figures (a cost of a ten-thousandth of a dollar once read "$0.0001"): the table's figure
    # is the --json figure to within the rounding of its last shown digit
    for cell, exact in zip(_row(out, "cost (total)"), (single["cost_usd"], vote["cost_usd"])):
        assert cell.startswith("$") and len(cell.lstrip("$0.")) <= 3, cell
        assert abs(float(cell[1:]) - exact) <= 0.005 * exact, (cell, exact)
    assert _row(out, "items") == ["3", "3"]

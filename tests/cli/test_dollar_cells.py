"""Dollars shown by `run` (per node and in total), `show` (est. $ / run) and `route fit` (its $ / item) keep their
significant figures, as `validate` and the reports do (`rolegraph.money`): a sim model's $0.0000041 read "0.00000"
per node and "$0.00000" in total, and `show` said 0.00002 where `validate` said ~$0.0000154."""
from __future__ import annotations

import re
from types import SimpleNamespace as NS

import pytest
import yaml

from rolegraph.cli.route_cmd import _fmt
from rolegraph.cli.run_output import print_run
from rolegraph.graphs.result import NodeTrace
from tests.cli.support import run_cli

COST = 4.1e-06  # a one-node sim run's dollars (`rolegraph run` of sim/llama-3.2-1b on a gsm item)
NUMBER = r"([0-9][0-9.]*)"


def test_runs_node_and_total_dollars_are_not_zero(capsys):
    node = NodeTrace(id="s", role="solver", model="sim/llama-3.2-1b", simulated=True, answer="28080", tokens_in=189,
                     tokens_out=16, latency_s=0.16, cost_usd=COST)
    result = NS(simulation="simulated", world=0, nodes=[node], answer="28080", latency_s=0.16, critical_path_s=0.16,
                tokens=205, cost_usd=COST, flops_units=1.0, notes=[], error=None)
    print_run(result, NS(name="one1b"), "the question", None)
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("│") and "solver" in line)
    assert float(row.strip("│").split("│")[-1]) == pytest.approx(COST, rel=0.005)
    total = re.search(r"205 tokens, \$" + NUMBER + ",", out)
    assert total is not None and float(total.group(1)) == pytest.approx(COST, rel=0.005)


def test_show_and_validate_give_the_same_dollars_per_run(tmp_path, capsys):
    graph = tmp_path / "one1b.yaml"
    graph.write_text(yaml.safe_dump({"name": "one1b", "nodes": [
        {"id": "s", "role": "solver", "model": "sim/llama-3.2-1b", "params": {"max_tokens": 16}}], "edges": []}))
    code, out, err = run_cli(capsys, "show", graph)
    assert code == 0, err
    shown = re.search(r"est\. \$ / run\s*│\s*" + NUMBER, out)
    code, said, err = run_cli(capsys, "validate", graph)
    assert code == 0, err
    validated = re.search(r"~\$" + NUMBER + " per run", said)
    assert shown is not None and validated is not None
    assert 0 < float(validated.group(1)) < 1e-04  # the premise: five decimals keep one figure of it at most
    assert shown.group(1) == validated.group(1)


def test_route_fits_dollars_per_item_keep_their_figures():
    accuracy, flops, dollars, seconds = _fmt(NS(accuracy=0.5, flops_units=2.0, dollars=COST, latency_s=0.5))
    assert float(dollars) == pytest.approx(COST, rel=0.005)  # six decimals read 0.000004

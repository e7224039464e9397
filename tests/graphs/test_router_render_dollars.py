"""The router's stage table (`show` of a router) gives each stage's dollars with their significant figures: a sim
stage's few hundred-thousandths of a dollar read "0.00002" at five decimals (or "0.00000" under $0.000005)."""
from __future__ import annotations

import io

import pytest
from rich.console import Console

from rolegraph.graphs.analysis import TOKEN_PROFILES
from rolegraph.graphs.router import RouterSpec, Stage, StopRule, stage_costs
from rolegraph.graphs.router_render import stages_table
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.pool import ModelPool

DOLLARS_COLUMN = 5  # stage, graph, nodes run, +FLOPs units, +est. tokens, +est. $, then


def _single(name: str, model: str) -> GraphSpec:
    return GraphSpec.model_validate({"name": name, "nodes": [{"id": "s", "role": "solver", "model": model}],
                                     "edges": []})


def test_a_sim_stage_costs_more_than_zero_dollars():
    pool, profile = ModelPool.builtin(), TOKEN_PROFILES["math"]
    router = RouterSpec(name="r", stages=[Stage(graph=_single("small", "sim/llama-3.2-1b"),
                                                stop=StopRule(min_agreement=1.0)),
                                          Stage(graph=_single("big", "sim/llama-3.1-70b"))])
    wanted = [dollars for _, dollars in stage_costs(router, pool, profile)]
    assert 0 < wanted[0] < 1e-04  # the premise: five decimals keep one figure of it at most ("0.00002")
    out = io.StringIO()
    Console(file=out, width=250, color_system=None).print(stages_table(router, pool, profile))
    rows = [line for line in out.getvalue().splitlines() if line.startswith("│")]
    shown = [float(row.strip("│").split("│")[DOLLARS_COLUMN]) for row in rows]
    assert shown == pytest.approx(wanted, rel=0.005)

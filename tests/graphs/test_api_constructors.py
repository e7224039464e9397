"""Public models built in Python with bad arguments raise a RolegraphError with one line per problem (as a
file's mistakes do), never pydantic's multi-line ValidationError dump; the file loaders still name the file."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from rolegraph.errors import GraphError, RolegraphError
from rolegraph.graphs.budget import Budget, BudgetError
from rolegraph.graphs.builder import Graph
from rolegraph.graphs.io import load_graph
from rolegraph.graphs.router import RouterSpec, Stage, StopRule
from rolegraph.graphs.router_io import load_spec
from rolegraph.graphs.spec import GraphSpec, NodeSpec


@pytest.mark.parametrize("make, error, message", [
    (lambda: Budget(max_tokens=0), BudgetError, "Budget: field 'max_tokens' must be greater than 0, got 0"),
    (lambda: Budget(max_usd=-1), BudgetError, "Budget: field 'max_usd' must be greater than 0, got -1"),
    (lambda: Budget(max_tokens=1.5), BudgetError, "Budget: field 'max_tokens' must be a valid integer, got 1.5"),
    (lambda: Budget(max_flops=1), BudgetError, "Budget: unknown field 'max_flops' (fields: max_tokens, max_usd, "
                                               "max_seconds)."),
    (lambda: StopRule(min_agreement=2.0), GraphError,
     "StopRule: field 'min_agreement' must be less than or equal to 1, got 2.0"),
    (lambda: RouterSpec(name="x", stages=[]), GraphError, "RouterSpec: field 'stages' must have at least 1 item"),
    (lambda: Stage(graph="vote.yaml"), GraphError, "Stage: field 'graph' must be a valid dictionary or instance of "
                                                   "GraphSpec, got 'vote.yaml'"),
    (lambda: NodeSpec(id="a", role="solver"), GraphError, "NodeSpec: missing field 'model'"),
    (lambda: Graph("g").node(1, "solver", "sim/llama-3.2-3b"), GraphError,
     "NodeSpec: field 'id' must be a valid string, got 1"),
    (lambda: GraphSpec(name="g", nodes=[{"id": "a", "role": "solver"}]), GraphError,
     "GraphSpec: missing field 'nodes.0.model'"),
])
def test_a_bad_argument_is_one_line_naming_the_field(make, error, message):
    with pytest.raises(error) as info:
        make()
    assert isinstance(info.value, RolegraphError) and not isinstance(info.value, ValidationError)
    text = str(info.value)
    assert text.startswith(message) and "\n" not in text and "errors.pydantic.dev" not in text


def test_a_good_argument_still_builds_the_model():
    assert Budget(max_tokens=10).max_tokens == 10
    assert StopRule(min_agreement=0.5).min_agreement == 0.5


def test_validating_data_keeps_pydantics_error_for_the_file_loaders():
    """`model_validate` (what loaders call, and what a nested dict goes through) is not wrapped: the loaders turn
    its errors into lines naming the file and the entry."""
    with pytest.raises(ValidationError):
        StopRule.model_validate({"min_agreement": 2.0})
    with pytest.raises(ValidationError):
        GraphSpec.model_validate({"name": "g", "nodes": [{"id": 1, "role": "solver", "model": "m"}]})


def test_a_router_file_with_a_bad_stop_rule_still_names_the_file_and_stage(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("kind: router\nstages:\n  - graph:\n      nodes: [{id: a, role: solver, model: sim/llama-3.2-3b}]\n"
                    "    stop: {min_agreement: 2}\n  - graph:\n      nodes: [{id: a, role: solver, model: "
                    "sim/llama-3.1-8b}]\n")
    with pytest.raises(GraphError) as info:
        load_spec(path)
    assert str(path) in str(info.value) and "min_agreement" in str(info.value)
    bad_graph = tmp_path / "g.yaml"
    bad_graph.write_text("nodes: [{id: a, role: solver}]\n")
    with pytest.raises(GraphError, match="missing field 'model'") as info:
        load_graph(bad_graph)
    assert str(bad_graph) in str(info.value)

"""A loop edge written twice is refused, as a repeated plain edge is: the runtime fed the back edge's output
back twice (the loop target read the same verdict two times each round) while the file looked like one loop."""
from __future__ import annotations

import pytest
import yaml

from rolegraph.graphs.spec import GraphSpec
from rolegraph.graphs.validate import validate_graph
from rolegraph.models.pool import ModelPool
from tests.cli.support import run_cli

M1 = "sim/llama-3.2-1b"
LOOP = {"from": "verify", "to": "solve", "max_rounds": 2}
GRAPH = {
    "nodes": [{"id": "solve", "role": "solver", "model": M1}, {"id": "verify", "role": "verifier", "model": M1}],
    "edges": [["solve", "verify"]],
}
LINE = "loop verify -> solve: listed 2 times"


def test_a_repeated_loop_edge_is_one_problem_naming_it():
    problems = validate_graph(GraphSpec.model_validate(GRAPH | {"loops": [LOOP, LOOP]}), ModelPool.builtin())
    assert problems == [LINE]


def test_a_loop_edge_listed_once_is_still_valid():
    assert validate_graph(GraphSpec.model_validate(GRAPH | {"loops": [LOOP]}), ModelPool.builtin()) == []


@pytest.mark.parametrize("argv", [["validate"], ["run", "--task", "gsm"], ["eval", "--task", "gsm", "--n", "2"]])
def test_validate_run_and_eval_refuse_the_file_in_one_line(tmp_path, capsys, argv):
    graph = tmp_path / "g.yaml"
    graph.write_text(yaml.safe_dump(GRAPH | {"loops": [LOOP, LOOP]}))
    code, out, err = run_cli(capsys, argv[0], graph, *argv[1:])
    assert code == 2 and "Traceback" not in err
    assert err.strip() == f"error: {graph}: {LINE}"


def test_a_router_stage_with_a_repeated_loop_edge_is_refused(tmp_path, capsys):
    (tmp_path / "g.yaml").write_text(yaml.safe_dump(GRAPH | {"loops": [LOOP, LOOP]}))
    router = tmp_path / "r.yaml"
    router.write_text("kind: router\nstages:\n  - graph: g.yaml\n")
    code, _, err = run_cli(capsys, "validate", router)
    assert code == 2
    assert err.strip() == f"error: {router}: stage 1: {LINE}"

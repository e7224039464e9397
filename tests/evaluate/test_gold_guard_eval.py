"""An evaluation scores task items, so every run carries an answer key: a graph (or any stage of a router) in
which a real node reads a simulated node's output is refused once, up front, before the recording loopback
endpoint standing in for the real model gets any request (`rolegraph eval`: one line, exit 2)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from rolegraph.chat.spec import ModelSpec
from rolegraph.errors import GraphError
from rolegraph.evaluate.runner import evaluate
from rolegraph.graphs.router import RouterSpec, Stage, StopRule
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.tasks.registry import get_task
from tests.reliability.capture import CaptureServer
from tests.reliability.conftest import assert_clean_user_error, cli, pool_yaml

SIM = "sim/llama-3.2-3b"
REAL = "capture/real"


def _real(base_url: str) -> ModelSpec:
    return ModelSpec(id=REAL, backend="openai", base_url=base_url, model="plain", params_b=1.0)


def _spec(solver: str, fuser: str, name: str = "mix") -> dict:
    return {
        "name": name,
        "nodes": [{"id": "s1", "role": "solver", "model": solver}, {"id": "fuse", "role": "fuser", "model": fuser}],
        "edges": [["s1", "fuse"]],
        "output": "fuse",
    }


def test_eval_refuses_sim_to_real_in_one_line_before_any_request(tmp_path):
    graph = tmp_path / "g.yaml"
    graph.write_text(yaml.safe_dump(_spec(SIM, REAL)))
    with CaptureServer() as server:
        pool = pool_yaml(tmp_path / "pool.yaml", [_real(server.base_url)])
        run = cli(["eval", graph, "--task", "gsm", "--n", "3", "--pool", pool, "--json",
                   "--store", tmp_path / "results.sqlite"])
        bodies = list(server.bodies)
    line = assert_clean_user_error(run)
    assert "real node 'fuse'" in line and "simulated node 's1'" in line
    assert bodies == []


def test_eval_runs_real_to_sim(tmp_path):
    graph = tmp_path / "g.yaml"
    graph.write_text(yaml.safe_dump(_spec(REAL, SIM)))
    with CaptureServer() as server:
        pool = pool_yaml(tmp_path / "pool.yaml", [_real(server.base_url)])
        run = cli(["eval", graph, "--task", "gsm", "--n", "2", "--pool", pool, "--json",
                   "--store", tmp_path / "results.sqlite"])
        calls = len(server.bodies)
    assert run.code == 0, run.err[-2000:]
    assert calls == 2


def test_a_router_whose_later_stage_leaks_is_refused_before_its_first_stage_calls(tmp_path: Path):
    """Stage 1 (real only) runs on every item before stage 2 is reached (here its voters agree, so stage 2 never
    runs at all): only a check made once, before any item, refuses the router with no call made."""
    first = GraphSpec.model_validate({
        "name": "one",
        "nodes": [{"id": "a", "role": "solver", "model": REAL}, {"id": "b", "role": "solver", "model": REAL},
                  {"id": "out", "role": "fuser", "model": REAL}],
        "edges": [["a", "out"], ["b", "out"]],
    })
    router = RouterSpec(
        name="r",
        stages=[Stage(graph=first, stop=StopRule(min_agreement=1.0)), Stage(graph=GraphSpec(**_spec(SIM, REAL)))],
    )
    items = get_task("gsm").items("test", n=2)
    with CaptureServer() as server:
        hub = ModelHub(ModelPool([*ModelPool.builtin(), _real(server.base_url)]), Settings(home=tmp_path / "h"))
        with pytest.raises(GraphError, match="stage 2: real node 'fuse'"):
            asyncio.run(evaluate(router, get_task("gsm"), items, hub=hub, progress=False))
        bodies = list(server.bodies)
    assert bodies == []


def test_run_of_a_router_whose_later_stage_leaks_makes_no_call(tmp_path: Path):
    """`run ROUTER --task T --item I` checks every stage before the first one runs (stage 1 here is real only,
    and stage-by-stage its calls were made before stage 2 was refused)."""
    first = {"name": "one", "nodes": [{"id": "a", "role": "solver", "model": REAL},
                                      {"id": "out", "role": "fuser", "model": REAL}], "edges": [["a", "out"]]}
    router = {"kind": "router", "name": "r", "stages": [{"graph": first, "stop": {"min_agreement": 1.0}},
                                                      {"graph": _spec(SIM, REAL)}]}
    path = tmp_path / "router.yaml"
    path.write_text(yaml.safe_dump(router))
    with CaptureServer() as server:
        pool = pool_yaml(tmp_path / "pool.yaml", [_real(server.base_url)])
        run = cli(["run", path, "--task", "gsm", "--item", "0", "--pool", pool])
        bodies = list(server.bodies)
    line = assert_clean_user_error(run)
    assert "stage 2" in line and "real node 'fuse'" in line
    assert bodies == []

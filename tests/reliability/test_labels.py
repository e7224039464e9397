"""Results are labelled by what answered, wherever they are shown: serve-sim twins are simulated (their
replies carry serve-sim's mark), a graph mixing a sim node with a real endpoint is "partly simulated",
and a simulated model is never accepted as the LLM feedback agent."""
from __future__ import annotations

import json

import yaml

from rolegraph.models.pool import ModelPool
from rolegraph.chat.spec import ModelSpec
from rolegraph.sim.fingerprint import sim_fingerprint

from .capture import SERVED_MODEL, CaptureServer
from .conftest import assert_clean_user_error, cli, pool_yaml
from .searching import http_models, twin_ids

TWIN = twin_ids(("sim/llama-3.2-3b",))[0]
REAL = "capture/real"


def _graph(path, nodes, edges=()):
    path.write_text(yaml.safe_dump({"nodes": [{"id": i, "role": r, "model": m} for i, r, m in nodes],
                                    "edges": [list(e) for e in edges]}))
    return path


def test_eval_through_serve_sim_twins_says_simulated_with_the_servers_fingerprint(serve, tmp_path):
    server = serve()
    pool = http_models(ModelPool.builtin(), server.base_url, ("sim/llama-3.2-3b",))
    pool_file = pool_yaml(tmp_path / "pool.yaml", [pool.get(TWIN)])
    graph = _graph(tmp_path / "g.yaml", [("a", "solver", TWIN), ("b", "solver", TWIN), ("f", "fuser", TWIN)],
                   [("a", "f"), ("b", "f")])
    run = cli(["eval", graph, "--task", "arith", "--n", "3", "--pool", pool_file, "--json",
               "--store", tmp_path / "r.sqlite"])
    assert run.code == 0, run.err
    out = json.loads(run.out)
    assert out["simulated"] is True and out["simulation"] == "simulated" and out["failures"] == 0
    twin = out["provenance"]["models"][TWIN]
    assert twin["simulated"] and twin["sim_fingerprint"] == sim_fingerprint()
    assert twin["served_model"] == "sim/llama-3.2-3b" and twin["endpoint"] == server.base_url
    assert out["provenance"]["sampling"]["f"]["model"] == TWIN and out["provenance"]["rolegraph_version"]


def test_a_graph_mixing_a_sim_node_and_a_real_endpoint_is_partly_simulated_everywhere(tmp_path):
    with CaptureServer() as capture:
        real = ModelSpec(id=REAL, backend="openai", base_url=capture.base_url, model="m", params_b=1.0)
        pool_file = pool_yaml(tmp_path / "pool.yaml", [real])
        # the real node feeds the sim one: a sim node's output must not reach a real one on task items (gold_guard)
        graph = _graph(tmp_path / "mixed.yaml", [("s", "solver", REAL), ("f", "fuser", "sim/llama-3.2-3b")],
                       [("s", "f")])
        store = tmp_path / "r.sqlite"
        as_json = cli(["eval", graph, "--task", "arith", "--n", "3", "--pool", pool_file, "--json", "--store", store])
        table = cli(["eval", graph, "--task", "arith", "--n", "3", "--pool", pool_file, "--store", store])
        ran = cli(["run", graph, "--task", "arith", "--item", "0", "--pool", pool_file, "--json"])
        ran_table = cli(["run", graph, "--task", "arith", "--item", "0", "--pool", pool_file])
    for r in (as_json, table, ran, ran_table):
        assert r.code == 0, r.err
    out = json.loads(as_json.out)
    assert out["simulation"] == "partly simulated" and out["simulated"] is False
    models = out["provenance"]["models"]
    assert models[REAL]["served_model"] == SERVED_MODEL and not models[REAL]["simulated"]
    assert models["sim/llama-3.2-3b"]["simulated"] and models["sim/llama-3.2-3b"]["sim_fingerprint"]
    assert "(partly simulated)" in table.out and "partly simulated" in table.out.split("simulation", 1)[1]
    single = json.loads(ran.out)
    assert single["simulation"] == "partly simulated" and single["simulated"] is False
    assert "(partly simulated)" in ran_table.out
    listed = [json.loads(line) for line in cli(["results", "--json", "--store", store]).out.splitlines()]
    assert [r["simulation"] for r in listed] == ["partly simulated"] * 2


def test_a_simulated_model_is_refused_as_the_feedback_agent_whatever_its_backend(serve, tmp_path):
    server = serve()
    pool_file = pool_yaml(tmp_path / "pool.yaml", [http_models(ModelPool.builtin(), server.base_url).get(TWIN)])
    for agent in (TWIN, "sim/llama-3.1-8b"):
        line = assert_clean_user_error(cli(["optimize", "--task", "arith", "--pool", pool_file,
                                            "--agent-model", agent, "--iterations", "1", "--out", tmp_path / agent]))
        assert f"'{agent}' is simulated" in line and "--agent-model" in line

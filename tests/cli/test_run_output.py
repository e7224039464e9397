"""`rolegraph run`'s seconds legend follows where each node's latency came from: modelled only when every
node ran an in-process sim model; an HTTP twin of a sim model is simulated, but its seconds are measured."""
from __future__ import annotations

import pytest
import yaml

from rolegraph.cli.run_output import (MEASURED_SECONDS, MODELLED_SECONDS, SOME_MODELLED_SECONDS, latency_modelled,
                                      seconds_meaning)
from rolegraph.graphs.result import NodeTrace
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from tests.cli.test_graph_cmd import _graph_file, cli

IN_PROCESS = NodeTrace(id="a", role="solver", model="sim/llama-3.2-1b", simulated=True)
TWIN = NodeTrace(id="b", role="solver", model="http/llama-3.2-1b", simulated=True, sim_fingerprint="6c53d9b6",
                 served_model="sim/llama-3.2-1b")
REAL = NodeTrace(id="c", role="solver", model="my/model", simulated=False, served_model="m")
NO_CALL = NodeTrace(id="d", role="searcher", model="sim/llama-3.2-1b")


def test_a_nodes_latency_is_modelled_only_for_an_in_process_sim_reply():
    assert latency_modelled(IN_PROCESS) is True
    assert latency_modelled(TWIN) is False and latency_modelled(REAL) is False
    assert latency_modelled(NO_CALL) is None


@pytest.mark.parametrize(("nodes", "legend"), [
    ([IN_PROCESS, NO_CALL], MODELLED_SECONDS),
    ([TWIN, TWIN], MEASURED_SECONDS),  # simulated replies, measured over HTTP: was "modelled seconds"
    ([REAL], MEASURED_SECONDS),
    ([IN_PROCESS, TWIN], SOME_MODELLED_SECONDS),
    ([IN_PROCESS, REAL], SOME_MODELLED_SECONDS),
])
def test_the_legend_says_modelled_only_when_every_timed_node_was_modelled(nodes, legend):
    assert seconds_meaning(nodes) == legend


def test_a_run_of_http_twins_labels_its_seconds_measured(tmp_path, capsys):
    from rolegraph.sim.server import ServerThread, create_app

    app = create_app(ModelPool.builtin(), Settings(home=tmp_path / "sim-home", latency_scale=0.0), None)
    with ServerThread(app) as server:
        pool = tmp_path / "pool.yaml"
        pool.write_text(yaml.safe_dump({"models": [
            {"id": "http/llama-3.2-1b", "backend": "openai", "base_url": server.base_url,
             "model": "sim/llama-3.2-1b", "answer_key": True},
        ]}))
        graph = _graph_file(tmp_path, [{"id": "s", "role": "solver", "model": "http/llama-3.2-1b"}])
        code, out, err = cli(["run", graph, "--task", "gsm", "--item", "0", "--pool", pool], capsys)
    assert code == 0, err
    flat = " ".join(out.split())
    assert "(simulated)" in flat  # the replies were simulated ...
    assert "s: seconds;" in flat and "modelled" not in flat  # ... but their seconds were measured
    alone = _graph_file(tmp_path, [{"id": "s", "role": "solver", "model": "sim/llama-3.2-1b"}])
    code, out, err = cli(["run", alone, "--task", "gsm", "--item", "0"], capsys)
    assert code == 0, err
    assert "s: modelled seconds;" in " ".join(out.split())

"""`rolegraph run` says what its hub counted of requests abandoned at their `timeout_s` (a `RunResult` does not see
the hub: the command passes its stats), in the text output's notes and in `run --json`. On the loopback server that
answers each distinct request slower than `timeout_s` the first time and at once after that."""
from __future__ import annotations

import json

from rolegraph.sim.server import ServerThread
from tests.evaluate.test_timed_out_counts import _graph, _pool_file, _rolegraph
from tests.models.fake_servers import SlowFirstTime
from tests.models.test_timed_out_attempts import SLOW_S


def test_run_shows_the_request_it_abandoned(tmp_path):
    server = SlowFirstTime(SLOW_S)
    graph = tmp_path / "one.yaml"
    graph.write_text(_graph().model_dump_json())
    with ServerThread(server.app) as srv:
        pool = _pool_file(tmp_path, srv.base_url)
        text = _rolegraph(tmp_path, "run", str(graph), "What is 2 + 3?", "--pool", str(pool))
        as_json = _rolegraph(tmp_path, "run", str(graph), "What is 4 + 4?", "--pool", str(pool),
                             "--json")
    assert text.returncode == 0, text.stderr[-2000:]
    assert as_json.returncode == 0, as_json.stderr[-2000:]
    assert len(server.bodies) == 4  # each question: abandoned once, then answered by its retry
    assert "1 request(s) timed out and were abandoned" in text.stdout, text.stdout
    out = json.loads(as_json.stdout)
    assert out["timed_out_attempts"] == 1 and out["timed_out_usd"] > 0

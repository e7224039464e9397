"""`run --json` of a run that nothing answered gives one label: its provenance said "simulation": "real" under a
top-level "simulation": "no answers" (the provenance was built from the label the pool configured)."""
from __future__ import annotations

import json

from rolegraph.cli.run_output import run_json
from rolegraph.graphs.result import NodeTrace, RunResult
from rolegraph.models.provenance import Provenance
from tests.cli.support import run_cli
from tests.cli.test_run_json_no_answers import _dead_files

NO_ANSWERS = "no answers"


def test_the_provenance_of_a_run_nothing_answered_says_no_answers_too():
    failed = NodeTrace(id="a", role="solver", model="dead/model", error="ModelCallError: connection refused")
    res = RunResult(nodes=[failed], simulation="real", error="node 'a' failed")
    out = run_json(res, Provenance(rolegraph_version="0", simulation="real"))
    assert out["simulation"] == NO_ANSWERS and out["provenance"]["simulation"] == NO_ANSWERS


def test_a_run_that_answered_keeps_its_label_in_both_places():
    ok = NodeTrace(id="a", role="solver", model="sim/llama-3.2-1b", calls=1, simulated=True, answer="9")
    res = RunResult(nodes=[ok], simulation="simulated", simulated=True, served=RunResult.served_by([ok]))
    out = run_json(res, Provenance(rolegraph_version="0", simulation="simulated"))
    assert out["simulation"] == "simulated" and out["provenance"]["simulation"] == "simulated"


def test_run_json_against_a_dead_port_has_one_label(tmp_path, capsys):
    pool, graph = _dead_files(tmp_path)
    code, out, err = run_cli(capsys, "run", graph, "What is 2+3?", "--pool", pool, "--json")
    assert code == 2 and "Traceback" not in err
    obj = json.loads(out.splitlines()[0])
    assert obj["simulation"] == NO_ANSWERS and obj["provenance"]["simulation"] == NO_ANSWERS

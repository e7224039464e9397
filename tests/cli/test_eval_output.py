"""What `rolegraph eval` prints for a graph whose every item failed: no measurement, no simulated note."""
from __future__ import annotations

import json

from rolegraph.cli.eval_output import print_results
from rolegraph.evaluate.result import EvalResult, ItemScore
from rolegraph.graphs.spec import GraphSpec


def _dead(n: int = 4) -> EvalResult:
    items = [ItemScore(item_id=f"q{i}", error="node 's' failed: HTTP 500") for i in range(n)]
    return EvalResult(task="gsm", graph_name="dead", n=n, accuracy=0.0, ci95=(0.0, 0.49), failures=n, items=items,
                      simulated=True, simulation="simulated", world=0)


def _spec() -> GraphSpec:
    return GraphSpec.model_validate({"name": "dead", "nodes": [{"id": "s", "role": "solver",
                                                                 "model": "sim/llama-3.2-1b"}], "edges": []})


def test_json_of_an_all_failed_graph_has_no_accuracy_or_latency_and_no_simulated_label(capsys, tmp_path):
    print_results([_dead()], [_spec()], [tmp_path / "g.yaml"], ["dead"], [], json_out=True)
    obj = json.loads(capsys.readouterr().out)
    assert obj["accuracy"] is None and obj["ci95"] is None
    assert obj["mean_latency_s"] is None and obj["p95_latency_s"] is None
    assert obj["simulation"] == "no answers" and obj["simulated"] is False and obj["world"] is None
    assert obj["n"] == 4 and obj["failures"] == 4


def test_the_tables_of_an_all_failed_graph_carry_no_simulated_note(capsys, tmp_path):
    print_results([_dead()], [_spec()], [tmp_path / "g.yaml"], ["dead"], [], json_out=False)
    out = capsys.readouterr().out
    assert "stand-ins" not in out and "(simulated)" not in out
    assert "no answers" in out and "0.0%" not in out


def test_results_lists_and_shows_an_all_failed_run_without_a_simulated_note(capsys, tmp_path):
    from rolegraph.evaluate.store import ResultsStore
    from tests.cli.support import run_cli

    path = tmp_path / "results.sqlite"
    with ResultsStore(path) as store:
        run_id = store.save(_dead(), _spec())
    for argv in (("results", "--store", path), ("results", run_id, "--store", path)):
        code, out, err = run_cli(capsys, *argv)
        assert code == 0, err
        assert "stand-ins" not in out and "0.0%" not in out and "n/a" in out


def test_json_provenance_of_an_all_failed_graph_says_no_answers_too(capsys, tmp_path):
    """The provenance was built from the pool's configured label ("real" for an endpoint that never answered)
    and said so under a top-level "no answers"."""
    from rolegraph.models.provenance import Provenance

    dead = _dead()
    dead.provenance = Provenance(rolegraph_version="0", simulation="real")
    print_results([dead], [_spec()], [tmp_path / "g.yaml"], ["dead"], [], json_out=True)
    obj = json.loads(capsys.readouterr().out)
    assert obj["simulation"] == "no answers" and obj["provenance"]["simulation"] == "no answers"
    assert obj["provenance"]["rolegraph_version"] == "0"

"""`rolegraph results` says what a measured run's latency is: a real model's search showed its chosen graph's
test latency as 36.43 s in report.md and `optimize --json` and 36.45 s in `results` (the paired:test run), two
evaluations of the same graph and items, each adding the framework's own time it measured, with nothing saying so.
Simulated latency is modelled, the same in every evaluation: no note under simulated runs."""

from __future__ import annotations

import json
from pathlib import Path

from rolegraph.evaluate.store import ResultsStore
from rolegraph.graphs.io import load_graph
from tests.cli.support import run_cli

SINGLE = Path(__file__).resolve().parents[2] / "examples" / "graphs" / "single.yaml"


def _stored_sim_run(capsys, store: Path) -> str:
    code, out, err = run_cli(capsys, "eval", SINGLE, "--task", "gsm", "--n", 3, "--store", store, "--json")
    assert code == 0, err
    return json.loads(out.splitlines()[0])["run_id"]


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_measured_runs_say_their_latency_is_each_evaluations_own(capsys, tmp_path):
    store = tmp_path / "r.sqlite"
    sim_id = _stored_sim_run(capsys, store)
    code, out, err = run_cli(capsys, "results", "--store", store)
    assert code == 0, err
    assert "latency: as measured" not in out  # modelled latency: every evaluation gives the same figure
    with ResultsStore(store) as s:
        measured = s.load(sim_id).model_copy(update={"simulation": "real", "simulated": False})
        real_id = s.save(measured, load_graph(SINGLE), label="paired:test:single")
    for argv in (("results", "--store", store), ("results", real_id, "--store", store)):
        code, out, err = run_cli(capsys, *argv)
        assert code == 0, err
        flat = _flat(out)
        assert "latency: as measured in each stored evaluation" in flat, argv
        assert "two evaluations of one graph on the same items differ slightly" in flat, argv
    code, out, err = run_cli(capsys, "results", sim_id, "--store", store)
    assert code == 0, err
    assert "latency: as measured" not in out

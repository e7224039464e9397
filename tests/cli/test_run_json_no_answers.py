"""A run in which nothing answered says so, as `eval` does: `run --json` reads `"simulation": "no answers"` and
`"simulated": false`, not the pool's configured label, and `run` and `eval` give its 0 FLOPs units the reason
"nothing answered", not "model sizes unknown". `RunResult.simulation` itself keeps the configured label."""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from rolegraph.cli.run_output import print_run, run_json
from rolegraph.graphs.result import NodeTrace, RunResult
from rolegraph.models.llamacpp_server import free_port
from tests.cli.support import run_cli

NO_ANSWERS = "no answers"  # eval's simulation cell of a graph whose every item failed
SIZES_UNKNOWN = "model sizes unknown"
NOTHING_ANSWERED = "n/a (nothing answered)"


def _failed(model: str = "dead/model") -> NodeTrace:
    return NodeTrace(id="a", role="solver", model=model, error="ModelCallError: connection refused")


def test_a_run_in_which_nothing_answered_is_labelled_no_answers():
    res = RunResult(nodes=[_failed()], simulation="real", error="node 'a' failed")  # the configured label
    out = run_json(res)
    assert out["simulation"] == NO_ANSWERS and out["simulated"] is False
    assert res.simulation == "real"  # the result keeps what the pool configured


def test_a_sim_pool_that_answered_nothing_is_not_called_simulated():
    res = RunResult(nodes=[_failed("sim/llama-3.2-1b")], simulation="simulated", simulated=True, error="failed")
    out = run_json(res)
    assert out["simulation"] == NO_ANSWERS and out["simulated"] is False


def test_a_run_that_answered_keeps_its_label():
    ok = NodeTrace(id="a", role="solver", model="sim/llama-3.2-1b", calls=1, simulated=True, answer="9")
    res = RunResult(nodes=[ok], simulation="simulated", simulated=True, served=RunResult.served_by([ok]))
    out = run_json(res)
    assert out["simulation"] == "simulated" and out["simulated"] is True


def _printed(res: RunResult, capsys) -> str:
    """`run`'s text output, its lines joined (the console wraps the totals line at its width)."""
    print_run(res, _Named("g"), "the question", None)
    return " ".join(capsys.readouterr().out.split())


class _Named:
    def __init__(self, name: str):
        self.name = name


def test_runs_text_says_no_answers_and_why_there_are_no_flops(capsys):
    out = _printed(RunResult(nodes=[_failed()], simulation="real", error="node 'a' failed"), capsys)
    assert f"FLOPs units {NOTHING_ANSWERED} ({NO_ANSWERS})" in out and SIZES_UNKNOWN not in out
    assert f"answer ({NO_ANSWERS}): None" in out


def test_runs_text_keeps_model_sizes_unknown_when_a_model_answered(capsys):
    ok = NodeTrace(id="a", role="solver", model="local/x", calls=1, simulated=False, answer="9")
    res = RunResult(nodes=[ok], simulation="real", served=RunResult.served_by([ok]), answer="9")  # 0: no sizes
    out = _printed(res, capsys)
    assert f"FLOPs units n/a ({SIZES_UNKNOWN})" in out and NO_ANSWERS not in out


def _dead_files(tmp_path: Path) -> tuple[Path, Path]:
    """A pool whose one model (with sizes: FLOPs are known) sits on a port nothing listens on, and a graph of it."""
    entry = {"id": "dead/model", "backend": "openai", "base_url": f"http://127.0.0.1:{free_port()}/v1", "model": "x",
             "params_b": 1.24, "layers": 16, "hidden": 2048, "max_retries": 0}
    pool = tmp_path / "pool.yaml"
    pool.write_text(yaml.safe_dump({"models": [entry]}))
    graph = tmp_path / "g.yaml"
    graph.write_text(yaml.safe_dump({"name": "g", "nodes": [{"id": "a", "role": "solver", "model": "dead/model"}]}))
    return pool, graph


def test_run_json_against_a_dead_port_says_no_answers(tmp_path, capsys):
    pool, graph = _dead_files(tmp_path)
    code, out, err = run_cli(capsys, "run", graph, "--task", "gsm", "--pool", pool, "--json")
    assert code == 2 and "Traceback" not in err
    obj = json.loads(out.splitlines()[0])  # what was computed, printed before the one-line error
    assert obj["simulation"] == NO_ANSWERS and obj["simulated"] is False and obj["answer"] is None


def test_eval_against_a_dead_port_gives_no_wrong_reason_for_its_flops(tmp_path, capsys):
    pool, graph = _dead_files(tmp_path)
    code, out, err = run_cli(capsys, "eval", graph, "--task", "gsm", "--n", "2", "--pool", pool)
    assert code == 2 and "Traceback" not in err
    row = next(line for line in out.splitlines() if "FLOPs units / item" in line)
    assert NOTHING_ANSWERED in row and SIZES_UNKNOWN not in row

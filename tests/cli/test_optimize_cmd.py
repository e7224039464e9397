"""`rolegraph optimize`, `demo` and `report` end to end on the sim pool (tiny settings)."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rolegraph.graphs.io import load_graph
from tests.conftest import copy_search
from tests.cli.support import cli

TINY = ["--task-size", "80", "--samples", "2", "--batch", "4", "--validation-items", "4", "--test-items", "6"]
KILL_TIMEOUT_S = 240
SPACE_EXAMPLE = "hotpotqa_stages.yaml"
POLL_S = 0.05


@pytest.fixture(autouse=True)
def home(fresh_home):
    return fresh_home


def test_demo_runs_end_to_end_and_the_best_graph_runs(tmp_path, capsys):
    # the default agent's pilot (a graph per model and a mix, 2 an iteration; then 2 mixes) is iterations 1-3;
    # its feedback and one step
    code, out, err = cli(["demo", "--iterations", "4", "--out", str(tmp_path / "demo"), "--json", *TINY], capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["simulated"] is True and summary["optimizer"] == "agent-reinforce"
    assert summary["feedback_agent"]["requested"] == "statistical"
    assert summary["feedback_agent"]["llm_steps"] == 0 and summary["feedback_agent"]["steps"] == 2
    assert summary["best_single"]["label"].startswith("sim/")
    lo, hi = summary["test"]["ci95"]
    assert lo - 1e-9 <= summary["test"]["accuracy"] <= hi + 1e-9
    run_dir = tmp_path / "demo"
    assert (run_dir / "report.md").is_file() and (run_dir / "best_graph.yaml").is_file()
    router = summary["router"]  # the demo ends by fitting a router on its own run
    assert (run_dir / "router.yaml").is_file() and router["test"]["n"] == summary["test"]["n"]
    assert len(router["stages"]) == len(router["test"]["shares"]) and router["note"]
    code, out, err = cli(["validate", str(run_dir / "best_graph.yaml")], capsys)
    assert code == 0, err
    code, out, err = cli(["run", str(run_dir / "best_graph.yaml"), "--task", "gsm", "--item", "0", "--json"], capsys)
    assert code == 0, err
    ran = json.loads(out)
    assert ran["simulated"] is True and ran["answer"] is not None and ran["tokens"] > 0
    assert {n["model"] for n in ran["nodes"]} <= {n.model for n in load_graph(run_dir / "best_graph.yaml").nodes}


def test_demo_prints_best_graph_against_best_single_model(tmp_path, capsys):
    code, out, err = cli(["demo", "--iterations", "1", "--out", str(tmp_path / "d"), *TINY], capsys)
    assert code == 0, err
    assert "best graph:" in out and "best single model; the best of 3 on these items, so optimistic:" in out
    assert "simulated" in out
    assert "note: no feedback step ran: the pilot took all 1 iterations" in out  # --samples 2: inside the pilot
    assert "router:" in out and "router file:" in out
    (tmp_path / "d" / "report.md").unlink()
    code, out, err = cli(["report", str(tmp_path / "d")], capsys)
    assert code == 0 and (tmp_path / "d" / "report.md").is_file()


@pytest.mark.parametrize("args, message", [
    (["optimize", "--task", "gsm", "--optimizer", "genetic"], "agent-reinforce"),
    (["optimize", "--task", "gsm", "--models", "sim/llama-3.2-1bb"], "sim/llama-3.2-1b"),
    (["optimize", "--task", "gsm", "--budget", "0.5"], "smallest feasible budget"),
    (["optimize", "--task", "gsm", "--max-nodes", "0"], "max nodes must be between 1"),
    (["optimize", "--task", "gsm", "--objective", "speed"], "joint"),
    (["optimize", "--task", "nosuchtask"], "gsm"),
    (["optimize", "--task", "gsm", "--agent-model", "sim/llama-3.1-8b"], "simulated"),
])
def test_user_errors_are_one_line_exit_2(tmp_path, capsys, args, message):
    code, out, err = cli(args + ["--out", str(tmp_path / "never")], capsys)
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize("flag, value", [("--max-nodes", "3"), ("--max-nodes", "0"), ("--models", "sim/llama-3.2-1b")])
def test_a_space_file_and_a_space_flag_together_are_refused(tmp_path, capsys, flag, value):
    space = Path(__file__).parents[2] / "examples" / "spaces" / SPACE_EXAMPLE
    code, out, err = cli(["optimize", "--task", "gsm", "--space", str(space), flag, value,
                          "--out", str(tmp_path / "never")], capsys)
    assert code == 2 and f"defines the space: drop {flag}" in err and err.count("\n") == 1
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize("args, flag", [
    (["optimize", "--task", "gsm", "--max-evaluations", "0"], "--max-evaluations"),
    (["optimize", "--task", "gsm", "--task-size", "0"], "--task-size"),
    (["demo", "--task-size", "0"], "--task-size"),
    (["optimize", "--task", "gsm", "--iterations", "0"], "--iterations"),
    (["demo", "--iterations", "0"], "--iterations"),
    (["demo", "--samples", "0"], "--samples"),
    (["demo", "--batch", "0"], "--batch"),
    (["demo", "--validation-items", "0"], "--validation-items"),
    (["demo", "--test-items", "0"], "--test-items"),
])
def test_counts_below_one_are_usage_errors_before_anything_runs(tmp_path, capsys, args, flag):
    code, out, err = cli([*args, "--out", str(tmp_path / "never")], capsys)
    assert code == 2 and flag in err and "greater than or equal to 1" in err
    assert out == "" and not (tmp_path / "never").exists()


@pytest.mark.parametrize("args, needle", [
    (["--world", "-1"], "--world"),
    (["--budget", "0"], "the budget must be positive, got 0"),
    (["--budget", "-1"], "the budget must be positive, got -1"),
])
def test_demo_with_a_bad_option_prints_only_the_error(tmp_path, capsys, args, needle):
    code, out, err = cli(["demo", *args, "--out", str(tmp_path / "never")], capsys)
    assert code == 2 and needle in err and err.count("\n") == 1
    assert out == ""  # no banner announcing a search that never starts
    assert not (tmp_path / "never").exists()


def test_resume_of_a_directory_that_is_not_a_run(tmp_path, capsys):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "keep.txt").write_text("x")
    code, out, err = cli(["optimize", "--resume", str(plain)], capsys)
    assert code == 2 and "not a search run directory" in err
    assert sorted(p.name for p in plain.iterdir()) == ["keep.txt"]
    code, out, err = cli(["report", str(plain)], capsys)
    assert code == 2 and sorted(p.name for p in plain.iterdir()) == ["keep.txt"]


def _checkpoint_iteration(db: Path) -> int:
    if not db.exists():
        return -1
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        row = con.execute("SELECT iteration FROM checkpoint WHERE id = 1").fetchone()
        con.close()
        return -1 if row is None else int(row[0])
    except sqlite3.Error:
        return -1


def _rolegraph(args, home: Path, **kwargs):
    env = dict(os.environ, ROLEGRAPH_HOME=str(home))
    return subprocess.Popen([sys.executable, "-m", "rolegraph", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def test_sigkilled_optimize_resumes_to_the_same_best_graph(tmp_path, capsys, monkeypatch):
    args = ["optimize", "--task", "gsm", "--iterations", "4", "--seed", "3", "--json", *TINY]
    killed_dir, full_dir = tmp_path / "killed", tmp_path / "full"
    victim = _rolegraph([*args, "--out", str(killed_dir)], tmp_path / "home-k")
    deadline = time.monotonic() + KILL_TIMEOUT_S
    while _checkpoint_iteration(killed_dir / "run.sqlite") < 1 and victim.poll() is None:
        assert time.monotonic() < deadline, "the search never checkpointed"
        time.sleep(POLL_S)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home-f"))
    code, full_out, err = cli([*args, "--out", str(full_dir)], capsys)
    assert code == 0, err
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home-k"))
    code, out, err = cli(["optimize", "--resume", str(killed_dir), "--json"], capsys)
    assert code == 0, err
    a, b = json.loads(out), json.loads(full_out)
    assert a["best_hash"] == b["best_hash"] and a["test"] == b["test"]
    ta = json.loads((killed_dir / "trace.json").read_text())
    tb = json.loads((full_dir / "trace.json").read_text())
    assert ta["evaluations"] == tb["evaluations"] and ta["iterations"] == tb["iterations"]
    assert (killed_dir / "best_graph.yaml").read_text() == (full_dir / "best_graph.yaml").read_text()


def test_optimize_in_a_world_names_it_keeps_it_on_resume_and_refuses_another(tmp_path, capsys):
    out_dir = tmp_path / "w2"
    code, out, err = cli(["optimize", "--task", "gsm", "--world", "2", "--iterations", "1", "--out", str(out_dir),
                          "--optimizer", "random", "--json", *TINY], capsys)
    assert code == 0, err
    assert json.loads(out)["world"] == 2
    assert "world 2" in (out_dir / "report.md").read_text()
    code, out, err = cli(["optimize", "--resume", str(out_dir), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["world"] == 2  # the run's own world, without --world
    code, out, err = cli(["optimize", "--resume", str(out_dir), "--world", "3"], capsys)
    assert code == 2 and "world 2" in err and "world 3" in err and "Traceback" not in err


def test_an_explicit_iteration_count_is_kept_for_exhaustive_search(tmp_path, capsys):
    # 13 graphs in this space, 1 per iteration: "--iterations 10" must stop after 10 of them
    base = ["optimize", "--task", "gsm", "--optimizer", "exhaustive", "--models", "sim/llama-3.2-1b", "--roles",
            "solver,fuser", "--max-nodes", "3", "--samples", "1", "--batch", "2", "--validation-items", "2",
            "--test-items", "2", "--task-size", "40", "--json"]
    code, out, err = cli([*base, "--iterations", "10", "--out", str(tmp_path / "ten")], capsys)
    assert code == 0, err
    assert json.loads(out)["iterations"] == 10
    code, out, err = cli([*base, "--out", str(tmp_path / "all")], capsys)  # not given: every graph
    assert code == 0, err
    assert json.loads(out)["iterations"] == 13


ROLES_FILE = "roles:\n  - {name: critic, prompt: 'Find the mistakes in the answers above and correct them.'}\n"


def test_a_staged_space_file_with_its_own_roles_and_a_warm_start(tmp_path, capsys):
    from tests.optimize.qa_fixture import write_qa_fixture

    data = write_qa_fixture(tmp_path / "qa.json")
    (tmp_path / "roles.yaml").write_text(ROLES_FILE)
    (tmp_path / "space.yaml").write_text(
        "roles_file: roles.yaml\nbudget: 20\nstages:\n"
        "  - {name: search, role: searcher, models: [sim/llama-3.2-1b, sim/llama-3.2-3b], width: [1, 2]}\n"
        "  - {name: solve, role: solver, models: [sim/llama-3.2-3b, sim/llama-3.1-8b], width: [1, 2]}\n"
        "output: {roles: [critic], models: [sim/llama-3.1-8b]}\n")
    base = ["optimize", "--task", "hotpotqa", "--data", str(data), "--space", str(tmp_path / "space.yaml"),
            "--iterations", "1", "--samples", "2", "--batch", "2", "--validation-items", "2", "--test-items", "2",
            "--json"]
    code, out, err = cli([*base, "--out", str(tmp_path / "a")], capsys)
    assert code == 0, err
    best = json.loads(out)["best_graph"]
    assert {n["role"] for n in best["nodes"]} <= {"searcher", "solver", "critic"} and best["nodes"][-1]["role"] == "critic"
    report = (tmp_path / "a" / "report.md").read_text()
    assert "- stages: search: searcher" in report and "roles of your own" in report and "critic" in report
    code, out, err = cli([*base, "--out", str(tmp_path / "b"), "--init-from", str(tmp_path / "a")], capsys)
    assert code == 0, err
    assert "warm start from" in (tmp_path / "b" / "report.md").read_text()
    best_file, roles = str(tmp_path / "a" / "best_graph.yaml"), ["--roles-file", str(tmp_path / "roles.yaml")]
    code, out, err = cli(["eval", best_file, "--task", "hotpotqa", "--data", str(data), "--n", "2", *roles, "--json"],
                         capsys)
    assert code == 0, err
    code, out, err = cli(["validate", best_file], capsys)
    assert code == 2 and "unknown role 'critic'" in err
    code, out, err = cli(["validate", best_file, *roles], capsys)
    assert code == 0, err
    code, out, err = cli(["run", best_file, "--task", "hotpotqa", "--data", str(data), "--item", "0", *roles,
                          "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["nodes"][-1]["role"] == "critic"


def test_a_warm_start_says_what_carried_over_and_what_did_not(tmp_path, capsys):
    base = ["optimize", "--iterations", "1", *TINY]
    code, out, err = cli([*base, "--task", "gsm", "--out", str(tmp_path / "a"), "--json"], capsys)
    assert code == 0, err
    code, out, err = cli([*base, "--task", "gsm", "--out", str(tmp_path / "b"), "--init-from", str(tmp_path / "a"),
                          "--json"], capsys)
    assert code == 0, err
    warm = json.loads(out)["warm_start"]
    assert warm["carried"].startswith(f"warm start from {tmp_path / 'a'}")
    # one iteration was all pilot: its distribution never moved, so it is said not to carry (no pilot skipped)
    assert len(warm["not_carried"]) == 1 and "never moved from its start" in warm["not_carried"][0]
    code, out, err = cli([*base, "--task", "arith", "--out", str(tmp_path / "c"), "--init-from", str(tmp_path / "a")],
                         capsys)
    assert code == 0, err
    flat = " ".join(out.split())  # the printed summary, not only the report, says the evidence stayed behind
    assert "warm start from" in flat
    assert "another task ('gsm'; this search: 'arith'): its evidence is not imported" in flat


def test_own_roles_from_the_command_line(tmp_path, capsys):
    (tmp_path / "roles.yaml").write_text(ROLES_FILE)
    code, out, err = cli(["optimize", "--task", "gsm", "--roles-file", str(tmp_path / "roles.yaml"), "--roles",
                          "solver,critic", "--iterations", "1", "--json", "--out", str(tmp_path / "r"), *TINY], capsys)
    assert code == 0, err
    assert json.loads(out)["best_graph"]["nodes"]


@pytest.mark.parametrize("args, message", [
    (["--roles", "solver,critic"], "--roles-file"),
    (["--roles-file", "missing.yaml"], "roles file not found"),
    (["--space", "missing.yaml"], "space file not found"),
    (["--space", "space.yaml", "--models", "sim/llama-3.2-1b"], "drop --models"),
    (["--space", "bad.yaml"], "unknown field 'widht'"),
    (["--init-from", "nowhere"], "no such run directory"),
    (["--init-from", "plain", "--optimizer", "exhaustive"], "cannot start from an earlier run"),
])
def test_space_role_and_warm_start_mistakes_are_one_line_exit_2(tmp_path, capsys, args, message):
    (tmp_path / "space.yaml").write_text("models: [sim/llama-3.2-1b]\n")
    (tmp_path / "bad.yaml").write_text("stages:\n  - {name: s, role: solver, models: [sim/llama-3.2-1b], widht: 2}\n")
    (tmp_path / "plain").mkdir()
    code, out, err = cli(["optimize", "--task", "gsm", *args, "--out", str(tmp_path / "never")], capsys)
    assert code == 2, err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "never").exists()


# --- real endpoints: defaults, the estimate, the dollar cap --------------------------------------------

def test_models_default_to_the_pool_files_own_models(tmp_path, capsys):
    pool = tmp_path / "pool.yaml"
    pool.write_text("models:\n"
                    "  - {id: mine/small, backend: sim, params_b: 1.24, layers: 16, hidden: 2048}\n"
                    "  - {id: mine/mid, backend: sim, params_b: 3.21, layers: 28, hidden: 3072}\n")
    code, out, err = cli(["optimize", "--task", "gsm", "--pool", str(pool), "--iterations", "1", *TINY,
                          "--out", str(tmp_path / "r"), "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    used = {n["model"] for n in result["best_graph"]["nodes"]} | {result["best_single"]["label"]}
    assert used <= {"mine/small", "mine/mid"}
    config = json.loads(sqlite3.connect(tmp_path / "r" / "run.sqlite").execute(
        "SELECT value FROM meta WHERE key = 'config'").fetchone()[0])
    assert config["space"]["models"] == ["mine/small", "mine/mid"]


def test_a_dollar_cap_stops_in_one_line_and_resume_with_a_higher_cap_finishes(tmp_path, capsys):
    run_dir = tmp_path / "capped"
    args = ["optimize", "--task", "gsm", "--iterations", "2", *TINY, "--out", str(run_dir)]
    code, out, err = cli([*args, "--max-dollars", "0.0001"], capsys)
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.count("\n") == 1 and "dollar cap reached" in err and f"--resume {run_dir}" in err
    assert (run_dir / "report.md").is_file()  # what the search found so far
    code, out, err = cli(["optimize", "--resume", str(run_dir), "--max-dollars", "1", "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert 0.0001 < result["paid_usd"] <= 1


def test_a_search_on_a_real_server_prints_its_estimate_first(llamacpp, tmp_path, capsys):
    """llama.cpp's own server, priced in the pool file: the estimate (calls, tokens, dollars; time unknown
    while nothing is measured) comes before any call, and a cap below one call stops before paying."""
    pool = tmp_path / "pool.yaml"
    pool.write_text("models:\n  - {id: llamacpp/smollm2, backend: openai, base_url: '" + llamacpp.base_url + "', "
                    "model: smollm2, params_b: 0.135, layers: 30, hidden: 576, context_window: 2048, "
                    "max_concurrency: 1, price_in: 1.0, price_out: 2.0}\n")
    code, out, err = cli(["optimize", "--task", "arith", "--pool", str(pool), "--budget", "6", "--max-nodes", "2",
                          "--iterations", "1", "--samples", "1", "--batch", "2", "--validation-items", "2",
                          "--test-items", "2", "--max-dollars", "0.000001", "--out", str(tmp_path / "r")], capsys)
    assert code == 2 and "Traceback" not in err
    lines = err.splitlines()
    assert lines[0].startswith("estimate before the search")
    assert "item runs:" in err and "dollars ~$" in err
    assert "time: unknown - nothing measured yet for llamacpp/smollm2" in err
    assert lines[-1].startswith("error: dollar cap reached")


@pytest.mark.parametrize("args, dropped", [
    (["--iterations", "4"], "--iterations"),
    (["--iterations", "4", "--budget", "3"], "--budget, --iterations"),
    (["--optimizer", "random", "--samples", "4"], "--optimizer, --samples"),  # a default value, given, too
    (["--task", "gsm", "--out", "elsewhere"], "--task, --out"),
    (["--init-from", "earlier", "--space", "space.yaml", "--agent-model", "m"], "--space, --init-from, --agent-model"),
])
def test_resume_refuses_the_options_it_would_ignore(tiny_search, tmp_path, capsys, args, dropped):
    run = copy_search(tiny_search, tmp_path) / "run"
    before = sorted((p.name, p.stat().st_mtime_ns) for p in run.iterdir())
    code, out, err = cli(["optimize", "--resume", str(run), *args], capsys)
    assert code == 2 and out == ""
    assert err == f"error: --resume continues the run as it was started: drop {dropped}\n"
    assert sorted((p.name, p.stat().st_mtime_ns) for p in run.iterdir()) == before  # nothing run, nothing written


def test_resume_of_a_missing_directory_names_the_directory_before_the_options(tmp_path, capsys):
    plain = tmp_path / "plain"
    plain.mkdir()
    code, out, err = cli(["optimize", "--resume", str(plain), "--iterations", "4"], capsys)
    assert code == 2 and out == ""
    assert err == f"error: {plain} is not a search run directory (no run.sqlite)\n"
    assert list(plain.iterdir()) == []
    code, out, err = cli(["optimize", "--resume", str(tmp_path / "missing"), "--iterations", "4"], capsys)
    assert code == 2 and err == f"error: {tmp_path / 'missing'}: no such run directory\n"


def test_resume_takes_its_own_options(tmp_path, capsys):
    plain = tmp_path / "plain"
    plain.mkdir()
    code, out, err = cli(["optimize", "--resume", str(plain), "--max-dollars", "1", "--world", "0", "--json",
                          "--executor", "local"], capsys)
    assert code == 2 and "not a search run directory" in err  # past the options check, to the run itself


@pytest.mark.parametrize("args, least", [([], 160), (TINY, 16)])  # 3 x 48 + 16; 3 x 4 + 4
def test_an_evaluation_budget_below_one_batch_is_refused_before_the_run_directory(tmp_path, capsys, args, least):
    code, out, err = cli(["optimize", "--task", "gsm", *args, "--max-evaluations", str(least - 1),
                          "--out", str(tmp_path / "never")], capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert f"--max-evaluations {least - 1} is too small" in err and f"give at least {least} " in err
    assert not (tmp_path / "never").exists()


def test_the_smallest_evaluation_budget_scores_a_graph(tmp_path, capsys):
    code, out, err = cli(["optimize", "--task", "gsm", *TINY, "--optimizer", "random", "--max-evaluations", "16",
                          "--out", str(tmp_path / "r"), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["evaluations"] <= 16


def test_a_short_data_file_notes_the_smaller_test_set_and_batches(tmp_path, capsys):
    data = tmp_path / "five.jsonl"
    data.write_text("".join(json.dumps({"question": f"What is {k} + {k}?", "answer": f"{k} + {k}\n#### {2 * k}"})
                            + "\n" for k in range(5)))
    code, out, err = cli(["optimize", "--task", "gsm8k", "--data", str(data), "--test-items", "16", "--batch", "8",
                          "--iterations", "1", "--samples", "2", "--validation-items", "4",
                          "--out", str(tmp_path / "r"), "--json"], capsys)
    assert code == 0, err
    n_test = json.loads(out)["test"]["n"]
    records = json.loads((tmp_path / "r" / "trace.json").read_text())["evaluations"]
    n_train = max(r["n"] for r in records if r["phase"] == "search")
    assert n_test < 16 and n_train < 8  # what the notes are about
    assert (f"note: split 'test' of task 'gsm8k' has {n_test} items: the test score will use {n_test}, "
            "not --test-items 16") in err
    assert (f"note: split 'train' of task 'gsm8k' has {n_train} items: training batches will use {n_train}, "
            "not --batch 8") in err


def test_run_files_names_only_the_files_a_run_directory_holds(tmp_path):
    from rolegraph.cli.optimize_output import run_files

    for name in ("report.md", "trace.json", "curve.png", "pareto.png", "run.sqlite"):  # a run that scored nothing
        (tmp_path / name).write_text("x")
    assert run_files(tmp_path) == ["report.md", "trace.json", "curve.png", "pareto.png"]
    (tmp_path / "best_graph.yaml").write_text("x")
    (tmp_path / "graph.png").write_text("x")
    assert run_files(tmp_path) == ["best_graph.yaml", "report.md", "trace.json", "curve.png", "pareto.png", "graph.png"]


def test_a_missing_key_stops_the_search_before_any_call(tmp_path, capsys, monkeypatch):
    """A pool with one reachable model and one whose key is unset: nothing is sent before the one-line error
    (the search used to call the first model, and pay, before it reached the second)."""
    import yaml
    from fastapi import FastAPI

    from rolegraph.sim.server import ServerThread

    calls: list[dict] = []
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(body: dict):
        calls.append(body)
        return {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "4"}}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}

    monkeypatch.delenv("RG_TEST_UNSET_KEY", raising=False)
    with ServerThread(app) as srv:
        entry = {"backend": "openai", "base_url": srv.base_url, "model": "m", "price_in": 1.0, "price_out": 1.0}
        pool = tmp_path / "pool.yaml"
        pool.write_text(yaml.safe_dump({"models": [{"id": "my/open", **entry},
                                                   {"id": "my/keyed", **entry, "api_key_env": "RG_TEST_UNSET_KEY"}]}))
        code, out, err = cli(["optimize", "--task", "arith", "--pool", str(pool), "--models", "my/open,my/keyed",
                              "--budget-kind", "dollars", "--budget", "0.01", "--iterations", "1",
                              "--out", str(tmp_path / "run")], capsys)
    assert code == 2 and "model 'my/keyed' needs an API key: set the environment variable RG_TEST_UNSET_KEY" in err
    assert calls == [] and not (tmp_path / "run").exists()

"""examples/langgraph_app.py on a run directory uses the run's own pool file and task (a run searched with `--pool`
failed with "unknown model", and its questions came from gsm whatever the run's task), and asks a question of your
own with `--question` on real models (its docstring promised it with no such argument)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import FastAPI

from rolegraph.sim.server_thread import ServerThread
from rolegraph.tasks.registry import get_task

EXAMPLE = Path(__file__).parents[2] / "examples" / "langgraph_app.py"
RENAMED = "mine/llama-8b"  # a sim model under a name only the run's pool file knows
ARITH_SIZE = 80


def app(*args: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(EXAMPLE), *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def pool_run(tmp_path_factory) -> Path:
    """A tiny search on arith over a pool file's model (`rolegraph optimize --pool`)."""
    from rolegraph.cli import main

    base = tmp_path_factory.mktemp("pool-run")
    pool = base / "pool.yaml"
    pool.write_text(f"models:\n  - {{id: {RENAMED}, backend: sim, params_b: 8.03, layers: 32, hidden: 4096, "
                    "price_in: 0.18, price_out: 0.18, context_window: 131072}\n")
    old = os.environ.get("ROLEGRAPH_HOME")
    os.environ["ROLEGRAPH_HOME"] = str(base / "home")
    try:
        try:
            main(["optimize", "--task", "arith", "--task-size", str(ARITH_SIZE), "--pool", str(pool), "--models",
                  RENAMED, "--samples", "2", "--batch", "4", "--validation-items", "4", "--test-items", "8",
                  "--iterations", "1", "--route-items", "8", "--budget", "20", "--out", str(base / "run"), "--json"])
        except SystemExit as exc:
            assert not exc.code
    finally:
        if old is None:
            os.environ.pop("ROLEGRAPH_HOME", None)
        else:
            os.environ["ROLEGRAPH_HOME"] = old
    return base / "run"


def test_a_run_searched_with_a_pool_file_runs_on_that_pool_and_asks_its_task(pool_run):
    done = app(str(pool_run), "--questions", "1")
    assert done.returncode == 0, done.stderr
    first = get_task("arith", size=ARITH_SIZE).items("test", 1, seed=0)[0]
    assert "questions from task 'arith'" in done.stdout
    assert f"Q: {first.question.splitlines()[0][:100]}  (gold {first.gold})" in done.stdout
    assert f"on {RENAMED}:" in done.stdout and "(simulated)" in done.stdout


def test_a_run_directory_refuses_another_pool_or_task_in_one_line(pool_run, tmp_path):
    done = app(str(pool_run), "--task", "gsm")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (f"error: {pool_run} is a run directory: it brings its own pool and task "
                                   "(drop --pool, --task and --data)")


def endpoint() -> FastAPI:
    """An OpenAI-compatible endpoint (a real model to the client) that answers 4 to anything."""
    server = FastAPI()

    @server.post("/v1/chat/completions")
    async def chat() -> dict:
        return {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "Final answer: 4"}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14}}

    return server


@pytest.mark.parametrize("how", ["--pool", "ROLEGRAPH_POOL"])
def test_your_own_question_to_a_real_model(how, tmp_path):
    graph = tmp_path / "g.yaml"
    graph.write_text("name: mine\nnodes:\n  - {id: s, role: solver, model: up/m}\n")
    with ServerThread(endpoint()) as server:
        pool = tmp_path / "pool.yaml"
        pool.write_text(f"models:\n  - {{id: up/m, backend: openai, base_url: '{server.base_url}', model: m}}\n")
        args, env = ([str(graph), "--pool", str(pool)], None) if how == "--pool" else ([str(graph)],
                                                                                       {"ROLEGRAPH_POOL": str(pool)})
        done = app(*args, "--question", "What is 2 + 2?", "--question", "And 1 + 3?", env=env)
    assert done.returncode == 0, done.stderr
    assert "Q: What is 2 + 2?\n" in done.stdout and "Q: And 1 + 3?\n" in done.stdout
    assert "[s] solver on up/m:" in done.stdout and "Answer: 4 (from the solver" in done.stdout
    assert "(simulated)" not in done.stdout and "questions from task" not in done.stdout


def test_your_own_question_to_a_simulated_model_is_one_line(tmp_path):
    graph = tmp_path / "g.yaml"
    graph.write_text("name: sim\nnodes:\n  - {id: s, role: solver, model: sim/llama-3.2-3b}\n")
    done = app(str(graph), "--question", "Who discovered insulin?")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --question needs real models: sim/llama-3.2-3b is simulated")


GRAPHS = Path(__file__).parents[2] / "examples" / "graphs"


@pytest.mark.parametrize(("graph", "group", "copied"),
                         [("revise", "loop_solve", "@"), ("mindsearch", "fanout_plan", "[")])
def test_a_loop_or_fanout_group_streams_as_what_ran_not_a_graph_output_of_none(graph, group, copied):
    """A group's task (a loop's rounds, a fan-out's copies) streams an update of its nodes' runs, with no answer:
    it printed `(graph output None)`, and every round or copy printed under its graph node's bare id."""
    done = app(str(GRAPHS / f"{graph}.yaml"), "--questions", "1")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert not any("None" in ln for ln in lines if ln.startswith("  (")), done.stdout
    ran = [ln.strip()[1:].split("] ")[0] for ln in lines if ln.startswith("  [")]
    dynamic = [r for r in ran if copied in r]
    assert dynamic, ran  # each round or copy is named as it ran: solve@1, search[1], ...
    group_line = next(ln for ln in lines if ln.startswith(f"  (group {group} done: "))
    listed = group_line.removeprefix(f"  (group {group} done: ").removesuffix(")").split(", ")
    assert set(listed) <= set(dynamic) and listed
    answer = next(ln for ln in lines if ln.startswith("[agents] graph answer ")).split()[3]
    assert [ln.strip() for ln in lines if "(graph output" in ln] == [f"(graph output {answer})"]

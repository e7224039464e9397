"""`eval --add-to RUN`: the run's own roles, world, seed, concurrency and store are used (options that would
differ are refused in one line), options that only change how items run are honoured, and routers are said
to be kept for comparison (route fit chains graphs only)."""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from tests.cli.support import cli, cli_in_home

ROLES = "roles:\n  - {name: critic, prompt: 'Find the mistakes in the answers above and correct them.'}\n"
OTHER_CRITIC = "roles:\n  - {name: critic, prompt: 'Say whether the answers above agree.'}\n"
EXTRA_ROLE = ROLES + "  - {name: judge, prompt: 'Pick the best answer above.'}\n"
CRITIC_GRAPH = ("name: solve-then-critic\nnodes:\n  - {id: a, role: solver, model: sim/llama-3.2-1b}\n"
                "  - {id: c, role: critic, model: sim/llama-3.2-3b}\nedges: [[a, c]]\n")
NEW_GRAPH = "name: lone-8b\nnodes:\n  - {id: a, role: solver, model: sim/llama-3.1-8b}\n"
ROUTER = ("kind: router\nname: cascade\nstages:\n"
          "  - graph: {nodes: [{id: a, role: solver, model: sim/llama-3.2-1b},"
          " {id: b, role: solver, model: sim/llama-3.2-1b}, {id: f, role: fuser, model: sim/llama-3.2-1b}],"
          " edges: [[a, f], [b, f]]}\n    stop: {min_agreement: 1.0}\n"
          "  - graph: {nodes: [{id: a, role: solver, model: sim/llama-3.1-8b}]}\n")
TINY = ["--task", "gsm", "--task-size", "80", "--models", "sim/llama-3.2-1b,sim/llama-3.2-3b", "--roles",
        "solver,critic", "--iterations", "1", "--samples", "2", "--batch", "4", "--validation-items", "4",
        "--test-items", "6", "--route-items", "8", "--json"]


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """A tiny search with a role of its own (module-scoped): (base directory, run directory)."""
    base = tmp_path_factory.mktemp("add-to")
    (base / "roles.yaml").write_text(ROLES)
    cli_in_home(base / "home", "optimize", *TINY, "--roles-file", base / "roles.yaml", "--out", base / "run")
    return base, base / "run"


def test_a_graph_with_the_runs_own_role_is_added(searched, searched_home, capsys):
    base, run = searched
    graph = base / "critic.yaml"
    graph.write_text(CRITIC_GRAPH)
    code, out, err = cli(["eval", graph, "--add-to", run], capsys)
    assert code == 0, err
    assert "test: solve-then-critic" in out and "route fit" in out
    code, out, err = cli(["eval", graph, "--add-to", run, "--roles-file", base / "roles.yaml"], capsys)
    assert code == 0, err  # the same definitions as the run's: nothing to drop
    for text, how in ((OTHER_CRITIC, "defines otherwise"), (EXTRA_ROLE, "run lacks")):
        (base / "other_roles.yaml").write_text(text)
        code, _, err = cli(["eval", graph, "--add-to", run, "--roles-file", base / "other_roles.yaml"], capsys)
        assert code == 2 and how in err and "drop --roles-file" in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("extra, dropped", [
    (["--seed", "3"], "--seed"),
    (["--concurrency", "2"], "--concurrency"),
    (["--store", "elsewhere.sqlite"], "--store"),
    (["--label", "mine"], "--label"),
    (["--split", "all", "--seed", "1"], "--split, --seed"),
])
def test_options_the_run_fixes_are_refused(extra, dropped, capsys, tmp_path):
    code, _, err = cli(["eval", "g.yaml", "--add-to", tmp_path / "no-run", *extra], capsys)
    assert code == 2 and f"drop {dropped}" in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "elsewhere.sqlite").exists()


def test_the_runs_world_is_the_only_world(searched, searched_home, capsys):
    base, run = searched
    single = Path(__file__).parents[2] / "examples" / "graphs" / "single.yaml"
    code, _, err = cli(["eval", single, "--add-to", run, "--world", "2"], capsys)
    assert code == 2 and "run's own world (0): drop --world" in err, err
    code, _, err = cli(["eval", single, "--add-to", run, "--world", "0"], capsys)
    assert code == 0, err


def test_how_items_run_is_honoured(searched, searched_home, capsys):
    base, run = searched
    code, _, err = cli(["eval", "g.yaml", "--add-to", run, "--executor", "nope"], capsys)
    assert code == 2 and "unknown executor 'nope'" in err, err
    graph = base / "new.yaml"
    graph.write_text(NEW_GRAPH)

    def cached() -> int:
        db = sqlite3.connect(searched_home / "cache.sqlite")
        try:
            return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
        finally:
            db.close()

    before = cached()
    code, out, err = cli(["eval", graph, "--add-to", run, "--no-cache", "--json"], capsys)
    assert code == 0, err
    assert {json.loads(line)["graph"] for line in out.splitlines()} == {"lone-8b"}
    assert cached() == before  # scored without writing the response cache


def test_a_router_is_said_to_be_kept_for_comparison(searched, searched_home, capsys):
    base, run = searched
    router = base / "router.yaml"
    router.write_text(ROUTER)
    code, out, err = cli(["eval", router, "--add-to", run], capsys)
    assert code == 0, err
    assert "router(s) cascade kept" in out and "for comparison" in out and "considers them" not in out
    code, out, err = cli(["route", "fit", run, "--json"], capsys)
    assert code == 0, err
    assert "cascade" not in [c["name"] for c in json.loads(out)["candidates"]]


HELD_GRAPH = ("name: held-8b-then-3b\nnodes:\n  - {id: a, role: solver, model: sim/llama-3.1-8b}\n"
              "  - {id: f, role: fuser, model: sim/llama-3.2-3b}\nedges: [[a, f]]\n")
PLANNER_LAST = ("name: plan-last\nnodes:\n  - {id: a, role: solver, model: sim/llama-3.2-1b}\n"
                "  - {id: p, role: planner, model: sim/llama-3.2-1b}\nedges: [[a, p]]\n")
UNKNOWN_TOOL = "name: bad-tool\nnodes:\n  - {id: a, role: solver, model: sim/llama-3.2-1b, params: {tools: [calculater]}}\n"


def paired_runs(run: Path) -> int:
    """How many scored runs the run's paired sets hold (fit and test)."""
    from rolegraph.evaluate.store import ResultsStore
    from rolegraph.optimize.paired import FIT, PAIRED_SET, TEST, results_path

    with ResultsStore(results_path(run)) as store:
        return sum(len(store.paired(PAIRED_SET, split)) for split in (FIT, TEST))


def test_a_run_another_process_holds_is_refused_in_one_line_and_left_alone(searched, searched_home, capsys):
    """Two `eval --add-to` at once scored (and paid for) the same graphs twice; one beside a resume's pairing
    filed outcomes into a run still being written. The holder here is this process's own RunLock: a second open
    of the lock file is refused as another process's is."""
    from rolegraph.optimize.runlock import RunLock

    base, run = searched
    graph = base / "held.yaml"
    graph.write_text(HELD_GRAPH)
    before = paired_runs(run)
    with RunLock.take(run):
        code, out, err = cli(["eval", graph, "--add-to", run], capsys)
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert f"run directory {run} is in use by another rolegraph process (pid {os.getpid()})" in err
    assert paired_runs(run) == before and "held-8b-then-3b" not in out
    code, out, err = cli(["eval", graph, "--add-to", run], capsys)  # let go: it is added, once per split
    assert code == 0, err
    assert paired_runs(run) == before + 2


def test_the_python_api_holds_the_run_too(searched, searched_home):
    import asyncio

    from rolegraph.errors import SearchError
    from rolegraph.optimize.api import add_to_run, pair_run
    from rolegraph.optimize.runlock import RunLock
    from rolegraph.settings import Settings

    base, run = searched
    settings = Settings(home=searched_home)
    before = paired_runs(run)
    with RunLock.take(run):
        with pytest.raises(SearchError, match="is in use by another rolegraph process"):
            asyncio.run(pair_run(run, settings))
        with pytest.raises(SearchError, match="is in use by another rolegraph process"):
            asyncio.run(add_to_run(run, [], settings))
    assert paired_runs(run) == before


REFUSED = [
    (PLANNER_LAST, "output node 'p': role 'planner' never answers, so every item would score 0"),
    (UNKNOWN_TOOL, "node 'a': unknown tool 'calculater'. Did you mean: calculator?"),
]


def refused_before_filed(run: Path, graph: Path, text: str, problem: str, capsys) -> None:
    graph.write_text(text)
    before = paired_runs(run)
    code, out, err = cli(["eval", graph, "--add-to", run], capsys)
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert f"{graph}: {problem}" in err
    assert paired_runs(run) == before and out == ""


@pytest.mark.parametrize("text, problem", REFUSED)
def test_the_checks_plain_eval_makes_refuse_a_graph_before_it_is_filed(searched, searched_home, capsys, monkeypatch,
                                                                       text, problem):
    """`add_to_run` with the checks `eval` hands it (graph_cmd's, which router_views cannot import: graph_cmd
    imports router_views), wired here as eval_cmd is to wire them."""
    import functools

    from rolegraph.cli import router_views
    from rolegraph.cli.graph_cmd import graph_file_problems, silent_outputs

    checks = functools.partial(router_views.add_to_run,
                               graph_problems=lambda spec, roles: graph_file_problems(spec, roles)
                               + silent_outputs(spec, roles))
    monkeypatch.setattr(router_views, "add_to_run", checks)
    base, run = searched
    refused_before_filed(run, base / "refused.yaml", text, problem, capsys)


@pytest.mark.parametrize("text, problem", REFUSED)
def test_eval_add_to_refuses_what_plain_eval_refuses(searched, searched_home, capsys, text, problem):
    base, run = searched
    refused_before_filed(run, base / "refused-plain.yaml", text, problem, capsys)

"""`eval --add-to RUN`: the run's own roles, world, seed, concurrency and store are used (options that would
differ are refused in one line), options that only change how items run are honoured, and routers are said
to be kept for comparison (route fit chains graphs only)."""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from rolegraph.cli import main
from tests.cli.support import cli

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
    old = os.environ.get("ROLEGRAPH_HOME")
    os.environ["ROLEGRAPH_HOME"] = str(base / "home")
    try:
        main(["optimize", *TINY, "--roles-file", str(base / "roles.yaml"), "--out", str(base / "run")])
    except SystemExit as exc:
        assert exc.code in (0, None)
    finally:
        if old is None:
            os.environ.pop("ROLEGRAPH_HOME")
        else:
            os.environ["ROLEGRAPH_HOME"] = old
    return base, base / "run"


@pytest.fixture
def home(searched, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(searched[0] / "home"))
    monkeypatch.delenv("ROLEGRAPH_POOL", raising=False)
    return searched[0] / "home"


def test_a_graph_with_the_runs_own_role_is_added(searched, home, capsys):
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


def test_the_runs_world_is_the_only_world(searched, home, capsys):
    base, run = searched
    single = Path(__file__).parents[2] / "examples" / "graphs" / "single.yaml"
    code, _, err = cli(["eval", single, "--add-to", run, "--world", "2"], capsys)
    assert code == 2 and "run's own world (0): drop --world" in err, err
    code, _, err = cli(["eval", single, "--add-to", run, "--world", "0"], capsys)
    assert code == 0, err


def test_how_items_run_is_honoured(searched, home, capsys):
    base, run = searched
    code, _, err = cli(["eval", "g.yaml", "--add-to", run, "--executor", "nope"], capsys)
    assert code == 2 and "unknown executor 'nope'" in err, err
    graph = base / "new.yaml"
    graph.write_text(NEW_GRAPH)

    def cached() -> int:
        db = sqlite3.connect(home / "cache.sqlite")
        try:
            return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
        finally:
            db.close()

    before = cached()
    code, out, err = cli(["eval", graph, "--add-to", run, "--no-cache", "--json"], capsys)
    assert code == 0, err
    assert {json.loads(line)["graph"] for line in out.splitlines()} == {"lone-8b"}
    assert cached() == before  # scored without writing the response cache


def test_a_router_is_said_to_be_kept_for_comparison(searched, home, capsys):
    base, run = searched
    router = base / "router.yaml"
    router.write_text(ROUTER)
    code, out, err = cli(["eval", router, "--add-to", run], capsys)
    assert code == 0, err
    assert "router(s) cascade kept" in out and "for comparison" in out and "considers them" not in out
    code, out, err = cli(["route", "fit", run, "--json"], capsys)
    assert code == 0, err
    assert "cascade" not in [c["name"] for c in json.loads(out)["candidates"]]

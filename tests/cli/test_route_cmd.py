"""`rolegraph route fit` and router files through every command that takes a graph, end to end on the sim."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.support import cli
from tests.conftest import copy_search


@pytest.fixture(scope="module")
def run_dir(tiny_search, tmp_path_factory):
    """One tiny search through the CLI (module's own copy), with its paired outcomes."""
    return copy_search(tiny_search, tmp_path_factory.mktemp("route-cli")) / "run"


def test_route_fit_writes_a_router_and_reports_on_test_items(run_dir, capsys):
    code, out, err = cli(["route", "fit", run_dir, "--target-flops", "12"], capsys)
    assert code == 0, err
    assert "on 20 test items the fit never saw (simulated)" in out and "router - best graph" in out
    assert (run_dir / "router.yaml").is_file()
    code, out, err = cli(["route", "fit", run_dir, "--out", run_dir / "r.json", "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["router_file"] == str(run_dir / "r.json") and data["simulated"] is True
    assert {"fit", "test", "best_test", "vs_best", "flops_ratio", "candidates", "note", "guard", "stage_test"} <= set(data)
    assert data["test"]["n"] == 20 and data["fit"]["n"] == 40
    code, out, err = cli(["route", "fit", run_dir, "--out", run_dir / "r2.yaml"], capsys)
    assert code == 0, err
    assert all(c["name"] in out for c in data["candidates"])  # into a pipe: every candidate's name whole


def test_route_fit_on_an_80_column_terminal_folds_names_rather_than_cutting_them(run_dir, capsys, monkeypatch):
    from rich.console import Console

    from rolegraph.cli import tables

    monkeypatch.setattr(tables, "Console", lambda: Console(width=80, force_terminal=True, color_system=None))
    code, out, err = cli(["route", "fit", run_dir, "--out", run_dir / "r3.yaml"], capsys)
    assert code == 0, err
    table = out.split("stage 1:")[0]
    assert "…" not in table and max(len(line) for line in table.splitlines()) <= 80
    assert "FLOPs" in table and "agree" in table


def test_route_fit_shows_each_stage_beside_the_best_graph(run_dir, capsys):
    """A cascade's stages each get their accuracy on the items they answered, next to the best graph's there."""
    cascades = []
    for target in (4, 8, 12, 20, 30):
        code, out, err = cli(["route", "fit", run_dir, "--target-flops", target, "--out", run_dir / "t.yaml", "--json"],
                             capsys)
        assert code == 0, err
        data = json.loads(out)
        assert len(data["stage_test"]) == len(data["stages"])
        if len(data["stages"]) > 1:
            cascades.append(target)
    assert cascades, "no target gave a cascade on this run"
    code, out, err = cli(["route", "fit", run_dir, "--target-flops", cascades[0], "--out", run_dir / "t.yaml"], capsys)
    assert code == 0, err
    text = " ".join(out.split())  # rich wraps long lines
    assert "stage 2:" in text and "on its fit items right" in text and "on its test items right" in text


@pytest.mark.parametrize("args, message", [
    (["--target-flops", "5", "--target-accuracy", "0.5"], "not both"),
    (["--target-accuracy", "1.5"], "accuracy in [0, 1]"),
    (["--target-flops", "-1"], "must be positive"),
    (["--target-flops", "0.01"], "no cascade of this run's graphs fits"),
    (["--tolerance", "-1"], "--tolerance is an accuracy drop in [0, 1], got -1"),
    (["--max-stages", "4"], "--max-stages must be 1 to 3, got 4"),
    (["--max-stages", "0"], "--max-stages must be 1 to 3, got 0"),
])
def test_route_fit_user_errors_are_one_line_exit_2(run_dir, capsys, args, message):
    code, out, err = cli(["route", "fit", run_dir, *args], capsys)
    assert code == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err


def test_route_fit_of_a_directory_that_is_not_a_run(tmp_path, capsys):
    code, _, err = cli(["route", "fit", tmp_path], capsys)
    assert code == 2 and "not a search run directory" in err


def test_route_fit_of_a_file_says_it_is_a_file(run_dir, capsys):
    code, _, err = cli(["route", "fit", run_dir / "best_graph.yaml"], capsys)
    assert code == 2 and "best_graph.yaml is a file, not a run directory" in err and err.count("\n") == 1


def test_route_fit_of_an_unfinished_run_says_so_in_one_line(run_dir, tmp_path, capsys):
    """An unfinished run (no final choice, no paired outcomes yet): only the error, not a 'scoring its front' note
    before it."""
    import json as _json
    import shutil
    import sqlite3

    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    shutil.copy(run_dir / "run.sqlite", unfinished / "run.sqlite")
    db = sqlite3.connect(unfinished / "run.sqlite")
    state = _json.loads(db.execute("SELECT state FROM checkpoint WHERE id = 1").fetchone()[0])
    state["final"] = None
    db.execute("UPDATE checkpoint SET phase = 'search', state = ? WHERE id = 1", (_json.dumps(state),))
    db.commit()
    db.close()
    code, out, err = cli(["route", "fit", unfinished], capsys)
    assert code == 2 and "has not finished" in err and err.count("\n") == 1, err
    assert not (unfinished / "router.yaml").exists()


def test_router_files_run_everywhere_a_graph_runs(run_dir, tmp_path, capsys):
    code, _, err = cli(["route", "fit", run_dir, "--target-flops", "20", "--out", tmp_path / "r.yaml"], capsys)
    assert code == 0, err
    router = tmp_path / "r.yaml"
    code, out, err = cli(["validate", router], capsys)
    assert code == 0 and out.startswith(f"ok: {router}: router, ") and "FLOPs units if stage 1 answers" in out
    code, out, _ = cli(["show", router, "--mermaid"], capsys)
    assert code == 0 and out.startswith("flowchart LR\n    subgraph S1")
    code, out, _ = cli(["show", router, "--png", tmp_path / "r.png"], capsys)
    assert code == 0 and "stage 1" in out and (tmp_path / "r.png").stat().st_size > 1000
    code, out, err = cli(["run", router, "--task", "gsm", "--item", "2", "--json"], capsys)
    assert code == 0, err
    ran = json.loads(out)
    assert ran["stage"] >= 1 and len(ran["stages"]) == ran["stage"] and ran["simulated"] is True
    assert all(n["id"].startswith("s") and "." in n["id"] for n in ran["nodes"])
    code, out, _ = cli(["run", router, "--task", "gsm", "--item", "2"], capsys)
    assert code == 0 and "stage 1 (" in out
    code, out, err = cli(["eval", router, run_dir / "best_graph.yaml", "--task", "gsm", "--n", "30", "--json"],
                         capsys)
    assert code == 0, err
    first, second = (json.loads(line) for line in out.splitlines())
    assert sum(s["answered"] for s in first["stages"]) == pytest.approx(1.0)
    assert first["stages"][0]["reached"] == 1.0 and "stages" not in second
    assert first["cost_usd_per_item"] == pytest.approx(first["cost_usd"] / 30)
    assert first["flops_units"] <= second["flops_units"] * 2


def test_bad_router_file_exits_2_with_the_stage_named(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: router\nstages:\n  - graph: {nodes: [{id: a, role: solver, model: sim/nope}]}\n"
                   "    stop: {min_agreement: 0.5}\n  - graph: {nodes: [{id: a, role: solver, model: sim/llama-3.2-1b}]}\n")
    for command in (["validate", bad], ["show", bad], ["run", bad, "--task", "gsm"], ["eval", bad, "--task", "gsm"]):
        code, _, err = cli(command, capsys)
        assert code == 2 and "stage 1: node 'a': unknown model 'sim/nope'" in err and "Traceback" not in err


def test_eval_add_to_a_run(run_dir, capsys):
    graph = Path(__file__).parents[2] / "examples" / "graphs" / "single.yaml"
    code, out, err = cli(["eval", graph, "--add-to", run_dir], capsys)
    assert code == 0, err
    assert "validation: " in out and "test: " in out and "route fit" in out
    code, out, _ = cli(["eval", graph, "--add-to", run_dir], capsys)
    assert "already in the run's paired outcomes" in out
    code, _, err = cli(["eval", graph, "--add-to", run_dir, "--task", "gsm"], capsys)
    assert code == 2 and "drop --task" in err
    code, out, _ = cli(["route", "fit", run_dir, "--json"], capsys)
    assert any(c["source"] == "eval" for c in json.loads(out)["candidates"])

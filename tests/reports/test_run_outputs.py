"""A run directory's files say where their numbers come from and stay current: the simulator world and the
command that reproduces it, the router the demo ends with, a report.html refreshed with report.md, the
re-check counted as it happened, the pilot and the curve numbered alike, and files as shareable as any other."""
from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
import yaml

from rolegraph.cli import main
from rolegraph.errors import SearchError
from rolegraph.graphs.io import load_graph
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.run_reader import load_run
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.rundir import RunStore
from rolegraph.reports import markdown, plots, render, write_html
from rolegraph.reports.markdown import report_markdown
from rolegraph.reports.selection import confidence_text
from tests.optimize.helpers import run, tiny_config, tiny_space

WORLD = 3
RUN_FILES = ("report.md", "best_graph.yaml", "trace.json", "curve.png", "pareto.png", "graph.png")
ROUTER_FIT = {
    "run_dir": "elsewhere",
    "test": {"accuracy": 0.7, "flops_units": 5.0, "dollars": 0.0, "latency_s": 1.0, "n": 6, "shares": [0.75, 0.25]},
    "best_graph": {"name": "best", "test": {"accuracy": 0.75, "flops_units": 10.0, "dollars": 0.0,
                                            "latency_s": 2.0, "n": 6, "shares": [1.0]}},
    "simulated": True,
}


def _search(base: Path, small_task, world: int) -> Path:
    out = base / "run"
    run(ModelPool.builtin(world=world), base / "home", small_task, "agent-reinforce",
        config=tiny_config(iterations=3), out=out)
    render(out)
    return out


@pytest.fixture(scope="module")
def world_run(tmp_path_factory, small_task) -> Path:
    """A finished tiny Agent-REINFORCE search whose sim models answer in world 3 (not the default 0)."""
    return _search(tmp_path_factory.mktemp("world-run"), small_task, WORLD)


@pytest.fixture(scope="module")
def default_run(tmp_path_factory, small_task) -> Path:
    return _search(tmp_path_factory.mktemp("default-run"), small_task, 0)


def _copy(run_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run_dir, tmp_path / "run"))


# --- 1. the simulator world ---------------------------------------------------------------------------
def test_the_world_is_in_the_trace_the_graph_file_and_the_report_hints(world_run):
    assert json.loads((world_run / "trace.json").read_text())["world"] == WORLD
    text = (world_run / "best_graph.yaml").read_text()
    header = [ln for ln in text.splitlines() if ln.startswith("#")]
    assert any(f"simulator world {WORLD}" in ln for ln in header)
    assert any(f"rolegraph eval best_graph.yaml --task gsm --task-size 80 --world {WORLD}" in ln for ln in header)
    assert f"world {WORLD})" in yaml.safe_load(text)["description"]
    assert load_graph(world_run / "best_graph.yaml").name == "best"  # the comment keeps the file a graph file
    report = (world_run / "report.md").read_text()
    assert f"`rolegraph run best_graph.yaml --task gsm --task-size 80 --world {WORLD}`" in report
    assert f"`rolegraph eval best_graph.yaml --task gsm --task-size 80 --world {WORLD}`" in report


def test_the_default_world_is_named_but_needs_no_option(default_run):
    assert json.loads((default_run / "trace.json").read_text())["world"] == 0
    assert "simulator world 0" in (default_run / "best_graph.yaml").read_text()
    report = (default_run / "report.md").read_text()
    assert "`rolegraph run best_graph.yaml --task gsm --task-size 80`" in report and "--world" not in report


# --- 2. the router --------------------------------------------------------------------------------------
def test_a_router_in_the_run_directory_gets_a_short_section(world_run, tmp_path, capsys):
    copy = _copy(world_run, tmp_path)
    assert "router" not in render(copy).read_text().lower()
    router = {"kind": "router", "name": "r", "fit": ROUTER_FIT,
              "stages": [{"graph": {"name": "s", "nodes": [{"id": "out", "role": "solver",
                                                             "model": "sim/llama-3.2-1b"}]}}]}
    (copy / "router.yaml").write_text(yaml.safe_dump(router))
    report = render(copy).read_text()
    section = report.split("## Router (router.yaml)", 1)[1].split("\n## ", 1)[0]
    assert "test accuracy 0.700 vs the best graph's 0.750 (-0.050) on 6 test items" in section
    assert "0.50x the best graph's FLOPs" in section and "stages answered 75%, 25%" in section
    assert f"rolegraph run router.yaml --task gsm --task-size 80 --world {WORLD}" in section
    page = write_html(copy).read_text()
    assert 'id="router"' in page and "0.50x the best graph&#x27;s FLOPs" in page
    capsys.readouterr()
    main(["report", str(copy)])
    assert "router.yaml" in capsys.readouterr().out
    main(["report", str(copy), "--html"])  # the page exists already: rewritten once, named once
    out = capsys.readouterr().out
    assert out.count("report.html") == 1, out


# --- 3. report.html re-rendered with report.md ------------------------------------------------------------
def test_rendering_the_report_refreshes_an_existing_html_page_only(world_run, tmp_path):
    copy = _copy(world_run, tmp_path)
    render(copy)
    assert not (copy / "report.html").exists()  # no page unless asked for one
    page = write_html(copy)
    page.write_text("stale page")
    render(copy)  # what the end of a search or a resume calls
    assert "stale page" not in page.read_text() and "Search report" in page.read_text()


def test_a_resume_refreshes_the_html_page(world_run, tmp_path):
    copy = _copy(world_run, tmp_path)
    write_html(copy).write_text("stale page")
    try:
        main(["optimize", "--resume", str(copy)])
    except SystemExit as exc:
        assert exc.code in (0, None)
    assert "stale page" not in (copy / "report.html").read_text()


# --- 4. the re-checked candidates are counted -----------------------------------------------------------
def test_how_sure_counts_only_the_candidates_the_recheck_scored(world_run):
    data = load_run(world_run)
    final = data["final"]
    row = next(c for c in final.candidates if c["hash"] == final.chosen_hash)
    other = next(c for c in final.candidates if c["hash"] != final.chosen_hash)
    row["p_best_of"] = 3
    final.candidates.append({**other, "hash": "f" * 16, "validation_items": 0})
    text = confidence_text(row, prefix="", candidates=final.candidates)
    assert "P(best of the 3 top candidates, 2 of them re-checked on validation items)" in text
    report = report_markdown(data, None, [])
    assert "3 re-checked candidates" not in report and "2 of them re-checked" in report
    every = [{**c, "validation_items": 4} for c in final.candidates]
    assert "P(best of the 3 re-checked candidates)" in confidence_text(row, prefix="", candidates=every)


# --- 5. file modes --------------------------------------------------------------------------------------
@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_run_files_get_the_mode_open_would_give(world_run, tmp_path, mask):
    copy = _copy(world_run, tmp_path)
    for name in RUN_FILES:
        (copy / name).unlink()
    old = os.umask(mask)
    try:
        render(copy)
        write_html(copy)
    finally:
        os.umask(old)
    for name in (*RUN_FILES, "report.html"):
        assert stat.S_IMODE((copy / name).stat().st_mode) == 0o666 & ~mask, name


# --- 6. the hint on an existing run -------------------------------------------------------------------
def test_an_existing_run_is_resumed_with_optimize(world_run):
    with pytest.raises(SearchError, match=f"rolegraph optimize --resume {world_run}"):
        RunStore.create(world_run, {})


# --- 7. the demo's --validation-items help -----------------------------------------------------------------
def test_demo_help_says_the_recheck_reserve_is_pooled(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    try:
        main(["demo", "--help"])
    except SystemExit as exc:
        assert exc.code in (0, None)
    out = " ".join(capsys.readouterr().out.split())
    assert "spent in rounds on the leader and its closest rival" in out and "pooled" in out


# --- 8. graph.png labelled as the other pictures ---------------------------------------------------------
def test_graph_png_is_labelled_simulated_with_the_world(world_run, tmp_path, monkeypatch):
    titles: dict[str, str] = {}
    monkeypatch.setattr(plots, "_save", lambda fig, path, *a: titles.__setitem__(path.name, fig.axes[0].get_title()))
    render(_copy(world_run, tmp_path))
    assert titles["graph.png"] == f"best  (output: out) (simulated, world {WORLD})"
    assert titles["curve.png"].endswith(f"(simulated, world {WORLD})")


# --- 9. a cut edge list says so -------------------------------------------------------------------------
def test_final_probabilities_say_when_edges_are_cut(pool):
    big = tiny_space(pool, max_nodes=6)
    table = markdown._pg_table({"space": big.to_dict()}, ProbabilisticGraph(big).to_dict())
    edges = table.splitlines()[-1]
    assert edges.startswith(f"edges (top {markdown.TOP_EDGES} of 15): ") and edges.count("->") == markdown.TOP_EDGES
    small = tiny_space(pool)
    table = markdown._pg_table({"space": small.to_dict()}, ProbabilisticGraph(small).to_dict())
    assert table.splitlines()[-1].startswith("edges: ") and table.count("->") == 6


# --- 10. the pilot and the curve numbered alike ------------------------------------------------------------
def test_the_pilot_feedback_names_the_curve_iterations_and_the_curve_is_explained(world_run):
    data = load_run(world_run)
    report = (world_run / "report.md").read_text()
    pilot = sorted({r.iteration for r in data["records"] if r.source == "pilot"})
    assert pilot[0] == 1 and "**iteration 0**" not in report
    assert f"**pilot (its evaluations are iterations {pilot[0]}-{pilot[-1]} of the curve)**" in report
    assert "re-estimated at each iteration" in report and "it is not a running maximum" in report

"""User text with square brackets (a graph named `x[/]y`, a --label `[/]`, a model id `my/[/]x`) is printed as
it is by every command that shows it: rich used to read it as markup and crash (`closing tag '[/]' ... has
nothing to close`), and since `eval` stores its result before printing, every later `rolegraph results` too.
A `[bold]` must not vanish either (read as a style, it would print nothing)."""
from __future__ import annotations

import json

import pytest

from tests.cli.support import run_cli

NAME = "x[/]y"
LABEL = "[/]"
STYLED = "[bold]keep[/bold]"  # valid markup: rich would print `keep` alone
MODEL = "my/[/]x"


def graph_text(name: str, output_model: str = "sim/llama-3.1-8b") -> str:
    return (
        f'name: "{name}"\nnodes:\n  - {{id: a, role: solver, model: sim/llama-3.2-3b}}\n'
        f'  - {{id: f, role: fuser, model: "{output_model}"}}\nedges: [[a, f]]\n'
    )


@pytest.fixture
def files(tmp_path, fresh_home):
    (tmp_path / "g.yaml").write_text(graph_text(NAME))
    (tmp_path / "styled.yaml").write_text(graph_text(STYLED))
    (tmp_path / "mine.yaml").write_text(graph_text("mine", MODEL))
    (tmp_path / "pool.yaml").write_text(
        f'models:\n  - {{id: "{MODEL}", backend: openai, base_url: "http://127.0.0.1:9/v1", model: x}}\n'
    )
    return tmp_path


def ok(capsys, *argv) -> str:
    code, out, err = run_cli(capsys, *argv)
    assert code == 0 and "Traceback" not in err, err
    return out


def test_show_prints_a_bracketed_graph_name_and_model_id_literally(files, capsys):
    assert f"graph {NAME} (" in ok(capsys, "show", files / "g.yaml")
    assert f"graph {STYLED} (" in ok(capsys, "show", files / "styled.yaml")
    out = ok(capsys, "show", files / "mine.yaml", "--pool", files / "pool.yaml")
    assert MODEL in out


def test_models_prints_a_bracketed_pool_id_literally(files, capsys):
    out = ok(capsys, "models", "--pool", files / "pool.yaml")
    assert MODEL in out


def test_eval_and_results_print_bracketed_names_and_labels_literally(files, capsys):
    out = ok(capsys, "eval", files / "g.yaml", "--task", "gsm", "--n", "1", "--label", LABEL)
    assert f"{NAME} on gsm" in out
    out = ok(capsys, "eval", files / "styled.yaml", "--task", "gsm", "--n", "1", "--label", STYLED)
    assert f"{STYLED} on gsm" in out
    listing = ok(capsys, "results")
    assert f"│ {NAME} " in listing and f"│ {LABEL} " in listing
    assert f"│ {STYLED} " in listing
    runs = {r["graph_name"]: r["id"] for r in map(json.loads, ok(capsys, "results", "--json").splitlines())}
    one = ok(capsys, "results", runs[NAME])
    assert f"{NAME} on gsm" in one and f"│ {LABEL} " in one
    assert f"│ {STYLED} " in ok(capsys, "results", runs[STYLED])
    assert f"for task '{LABEL}'" in ok(capsys, "results", "--task", LABEL)


def test_eval_of_two_graphs_prints_their_bracketed_names_literally(files, capsys):
    """Several graphs: the side-by-side headers, and the paired comparison's title, rows and caption."""
    (files / "sub").mkdir()
    (files / "sub" / "g.yaml").write_text(graph_text(STYLED))
    out = ok(capsys, "eval", files / "g.yaml", files / "sub" / "g.yaml", "--task", "gsm", "--n", "1")
    assert f"┃ metric " in out and f" {NAME} ┃" in out and f" {STYLED} ┃" in out  # the side-by-side headers
    assert f"paired comparison against {NAME} (same items)" in out
    assert f"│ {STYLED} " in out and f"accuracy minus {NAME}'s" in out


def test_run_prints_a_bracketed_graph_name_literally(files, capsys):
    out = ok(capsys, "run", files / "styled.yaml", "--task", "gsm")
    assert f"{STYLED} on gsm item" in out


ROUTER = (f'kind: router\nname: "r[/]"\ndescription: "{STYLED} d"\nstages:\n'
          f'  - graph: {{name: "{NAME}", nodes: [{{id: a, role: solver, model: sim/llama-3.2-1b}},'
          ' {id: f, role: fuser, model: sim/llama-3.2-1b}], edges: [[a, f]]}\n    stop: {min_agreement: 1.0}\n'
          f'  - graph: {{name: "{STYLED}", nodes: [{{id: a, role: solver, model: sim/llama-3.1-8b}}]}}\n')


def test_show_of_a_router_prints_its_names_and_description_literally(files, capsys):
    (files / "router.yaml").write_text(ROUTER)
    out = ok(capsys, "show", files / "router.yaml")
    assert f"stage 1: {NAME}" in out and f"stage 2: {STYLED}" in out  # the stages' node tables
    assert "router r[/] (" in out and f"│ {NAME} " in out and f"│ {STYLED} " in out  # the stages table
    assert f"{STYLED} d" in out  # the router's description


def test_route_fit_candidates_print_graph_names_literally():
    """`route fit`'s candidates table, on rich's default console (markup read)."""
    import io
    from types import SimpleNamespace

    from rich.console import Console

    from rolegraph.cli.route_cmd import candidates_table

    score = SimpleNamespace(accuracy=0.5, flops_units=3.0)
    fit = SimpleNamespace(simulation="simulated", candidates=[
        SimpleNamespace(name=NAME, source=f"front/{STYLED}.yaml", fit=score, test=score, agree_accuracy=0.5,
                        disagree_accuracy=None, agree_share=1.0)])
    for layout in ("wide", "stacked"):
        buf = io.StringIO()
        Console(file=buf, width=200).print(candidates_table(fit, layout))
        assert NAME in buf.getvalue() and f"front/{STYLED}.yaml" in buf.getvalue()

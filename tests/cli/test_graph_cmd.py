"""`rolegraph validate`, `show` and `run`: exit codes, one clear first line, the documented output."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rolegraph.sim.fingerprint import sim_fingerprint

from rolegraph.cli import main
from rolegraph.cli.graph_cmd import _pick_item
from rolegraph.errors import TaskError
from rolegraph.graphs.analysis import TOKEN_PROFILES, summary
from rolegraph.graphs.io import load_graph
from rolegraph.items import Item
from rolegraph.models.pool import ModelPool
from rolegraph.tasks.base import Task

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples" / "graphs"
FIXTURES = ROOT / "tests" / "graphs" / "fixtures"
GSM_TINY = FIXTURES / "gsm8k_tiny.jsonl"
SIM_EXAMPLES = ["single.yaml", "vote5.yaml", "mindsearch.yaml", "mixed.yaml", "revise.yaml", "debate.yaml"]
RUN_KEYS = {"answer", "latency_s", "critical_path_s", "cost_usd", "tokens", "flops_units", "simulated", "calls", "cached_calls", "simulation", "provenance", "world", "nodes",
            "notes", "error", "timed_out_attempts", "timed_out_usd"}
NODE_KEYS = {"id", "role", "model", "answer", "tokens_in", "tokens_out", "latency_s", "cost_usd", "output",
             "tool_calls", "inputs", "cached_calls", "trimmed_evidence_tokens", "trimmed_hits"}
INSTANCE_KEYS = NODE_KEYS | {"instance_of", "copy", "round"}
TASK_ITEM_KEYS = {"item", "gold", "score"}  # run --json on a task item (not on a free-form question)
ECHO_ID = "loopback/echo-model-135m"  # as long as a real model id: a table must make room for it
MALFORMED = sorted(p.name for p in FIXTURES.glob("*.*") if not p.name.startswith("valid") and p.suffix != ".jsonl")


def cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """Run the real entry point in-process: (exit code, stdout, stderr)."""
    try:
        main([str(a) for a in argv])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_user_error(code: int, out: str, err: str, path: Path | None = None) -> str:
    """Exit 2, nothing on stdout, no traceback, and a first line `error: <file>: ...`; returns that line."""
    assert code == 2, (out, err)
    assert out == "" and "Traceback" not in err
    first = err.splitlines()[0]
    assert first.startswith(f"error: {path}: " if path else "error: "), first
    return first


# --- validate ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SIM_EXAMPLES + ["search_local.yaml"])
def test_validate_examples_prints_a_one_line_summary(name, capsys):
    path = EXAMPLES / name
    code, out, err = cli(["validate", path], capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == 1
    spec = load_graph(path)
    info = summary(spec, ModelPool.builtin(), TOKEN_PROFILES["math"])
    n, e = len(spec.nodes), len(spec.edges)
    counted = f"{n} node{'s' * (n != 1)}, {e} edge{'s' * (e != 1)}"  # "1 node, 0 edges" (it said "1 nodes")
    assert lines[0].startswith(f"ok: {path}: {counted}, depth {info.depth}, width {info.width}")
    assert re.search(r"[\d.]+ FLOPs units", lines[0])


@pytest.mark.parametrize("name", MALFORMED)
def test_every_malformed_fixture_exits_2_with_one_clear_first_line(name, capsys):
    path = FIXTURES / name
    first = assert_user_error(*cli(["validate", path], capsys), path=path)
    assert len(first) < 300


def test_several_problems_are_listed_one_per_line(capsys):
    path = FIXTURES / "misspelled_field.yaml"
    code, out, err = cli(["validate", path], capsys)
    first = assert_user_error(code, out, err, path)
    assert first == f"error: {path}: 2 problems"
    rest = err.splitlines()[1:]
    assert len(rest) == 2 and all(line.startswith("  - node 1 ('a'): ") for line in rest)


@pytest.mark.parametrize("content, expected", [
    (b"\xff\xfe\x00\x01", "not UTF-8"),
    (b"[" * 20_000 + b"]" * 20_000, "nested too deeply"),
    (b"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
     + b"".join(f"a{i}: &a{i} [{', '.join(['*a' + (str(i - 1) if i > 1 else '')] * 10)}]\n".encode()
                for i in range(1, 8)) + b"nodes: *a7\n", "too large"),
])
def test_hostile_files_exit_2_without_traceback(tmp_path, capsys, content, expected):
    path = tmp_path / "hostile.yaml"
    path.write_bytes(content)
    assert expected in assert_user_error(*cli(["validate", path], capsys), path=path)


def test_missing_file_directory_and_bad_family(tmp_path, capsys):
    assert "graph file not found" in assert_user_error(*cli(["validate", tmp_path / "x.yaml"], capsys))
    assert "not a regular file" in assert_user_error(*cli(["validate", tmp_path], capsys))
    first = assert_user_error(*cli(["validate", EXAMPLES / "single.yaml", "--family", "poetry"], capsys))
    assert "unknown --family 'poetry'" in first


def test_pool_file_adds_models(tmp_path, capsys):
    graph = tmp_path / "mine.yaml"
    graph.write_text("nodes:\n  - {id: a, role: solver, model: my/model}\n")
    first = assert_user_error(*cli(["validate", graph], capsys), path=graph)
    assert "unknown model 'my/model'" in first
    pool = tmp_path / "pool.yaml"
    pool.write_text("models:\n  - {id: my/model, backend: openai, base_url: 'http://127.0.0.1:9/v1'}\n")
    code, out, _ = cli(["validate", graph, "--pool", pool], capsys)
    assert code == 0 and "FLOPs units n/a" in out


@pytest.mark.parametrize("name, code", [("cycle.yaml", 2), ("bad_yaml_syntax.yaml", 2), ("valid_vote3.yaml", 0)])
def test_validate_as_a_real_process(name, code, tmp_path):
    env = {**os.environ, "ROLEGRAPH_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "rolegraph", "validate", str(FIXTURES / name)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == code, proc.stderr
    if code:
        assert "Traceback" not in proc.stderr and proc.stderr.startswith(f"error: {FIXTURES / name}: ")
        assert proc.stdout == ""
    else:
        assert proc.stdout.startswith("ok: ")


# --- show -------------------------------------------------------------------------------------

def test_show_prints_nodes_and_summary(capsys):
    code, out, _ = cli(["show", EXAMPLES / "mindsearch.yaml"], capsys)
    assert code == 0
    for node_id in load_graph(EXAMPLES / "mindsearch.yaml").node_ids:
        assert node_id in out
    assert "FLOPs units" in out and "simulated" in out and "depth" in out


LONG_IDS = ("first_solver_with_a_rather_long_identifier", "second_solver_with_a_rather_long_identifier",
            "judge_that_reads_both_solvers_last_round")


def test_show_into_a_pipe_keeps_the_graph_name_and_node_ids_whole(tmp_path, capsys, monkeypatch):
    """`rolegraph show G | cat`: not a terminal, so the tables are printed whole rather than laid out for 80
    columns, where rich cut the node ids to `first_solver_…` and split the name, the path and the loop rules."""
    monkeypatch.delenv("COLUMNS", raising=False)
    first, second, judge = LONG_IDS
    name = "a_debate_graph_whose_name_is_long_enough_to_need_room_in_the_title"
    # deeper than any temporary directory's own depth (pytest-xdist adds a level), so the title is long anywhere
    path = tmp_path / "a_directory_with_a_long_name_for_graph_files" / ("nested_" * 12) / "long_graph.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(
        f"name: {name}\nnodes:\n"
        f"  - {{id: {first}, role: solver, model: sim/llama-3.2-3b, params: {{temperature: 0.7, max_tokens: 512}}}}\n"
        f"  - {{id: {second}, role: solver, model: sim/llama-3.1-8b}}\n"
        f"  - {{id: {judge}, role: fuser, model: sim/llama-3.1-8b}}\n"
        f"edges: [[{first}, {judge}], [{second}, {judge}]]\noutput: {judge}\nloops:\n"
        f"  - {{from: {first}, to: {second}, max_rounds: 3, until: agreement}}\n"
        f"  - {{from: {second}, to: {first}, max_rounds: 3, until: agreement}}\n"
    )
    code, out, err = cli(["show", path], capsys)
    assert code == 0, err
    assert "…" not in out
    assert f"graph {name} ({path})" in out  # on one line
    for node_id in LONG_IDS:
        assert re.search(rf"│ {node_id}( \(output\))? +│", out), node_id
    assert f"{first}, {second}" in out and "max_tokens=512, temperature=0.7" in out
    assert f"loop {first} -> {second}: at most 3 rounds, until agreement" in out


def test_show_mermaid_is_plain_mermaid(capsys):
    code, out, _ = cli(["show", EXAMPLES / "vote5.yaml", "--mermaid"], capsys)
    assert code == 0 and out.startswith("flowchart LR\n") and out.count(" --> ") == 5


def test_show_png(tmp_path, capsys):
    png = tmp_path / "vote5.png"
    code, out, _ = cli(["show", EXAMPLES / "vote5.yaml", "--png", png], capsys)
    assert code == 0 and f"wrote {png}" in out
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_show_invalid_graph_exits_2(capsys):
    path = FIXTURES / "cycle.yaml"
    assert "cycle: a -> b -> c -> a" in assert_user_error(*cli(["show", path], capsys), path=path)


# --- run: argument checks and item choice (no model call) ----------------------------------------

@pytest.mark.parametrize("args, expected", [
    (["What is 2+2?", "--task", "gsm8k"], "not both"),
    ([], "nothing to run"),
    (["--item", "3"], "need --task"),
    (["   "], "empty"),
])
def test_run_argument_errors(args, expected, capsys):
    assert expected in assert_user_error(*cli(["run", EXAMPLES / "single.yaml", *args], capsys))


class _Tiny(Task):
    name = "tiny"

    def __init__(self, ids: list[str]):
        self._items = [Item(id=i, question=f"q{i}", gold="1") for i in ids]

    def all_items(self) -> list[Item]:
        return self._items

    def score(self, prediction, item) -> float:
        return float(prediction == item.gold)


def test_pick_item_by_id_then_index():
    task = _Tiny(["a", "7", "c"])
    assert _pick_item(task, None).id == "a"
    assert _pick_item(task, "c").id == "c"
    assert _pick_item(task, "7").id == "7"  # an id wins over the index 7 (which does not exist)
    assert _pick_item(task, "2").id == "c"
    assert _pick_item(task, "-1").id == "c"
    with pytest.raises(TaskError, match=r"no item 'zz' \(3 items; an id such as a, 7, c, or an index 0..2, or -3..-1 from the end\)"):
        _pick_item(task, "zz")
    with pytest.raises(TaskError, match="no items"):
        _pick_item(_Tiny([]), None)


# --- run: through the runtime on sim models ------------------------------------------------------

@pytest.mark.parametrize("name", SIM_EXAMPLES)
def test_run_json_on_example_graphs(name, capsys):
    code, out, err = cli(["run", EXAMPLES / name, "--task", "gsm8k", "--data", GSM_TINY, "--item", "0",
                          "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert set(result) == RUN_KEYS | TASK_ITEM_KEYS
    spec = load_graph(EXAMPLES / name)
    # every graph node ran; a fan-out node as its copies, a loop node as its rounds
    assert sorted({n.get("instance_of") or n["id"] for n in result["nodes"]}) == sorted(spec.node_ids)
    for node in result["nodes"]:
        assert set(node) == (INSTANCE_KEYS if "instance_of" in node else NODE_KEYS)
        of = spec.node(node.get("instance_of") or node["id"])
        assert (node["role"], node["model"]) == (of.role, of.model)
    assert result["simulated"] is True and result["simulation"] == "simulated"
    prov = result["provenance"]
    assert prov["rolegraph_version"] and prov["simulation"] == "simulated" and prov["seed"] == 0
    assert set(prov["models"]) == {n.model for n in spec.nodes} and set(prov["sampling"]) == set(spec.node_ids)
    for model_id, seen in prov["models"].items():  # the in-process sim: its id and its fingerprint
        assert seen["backend"] == "sim" and seen["simulated"] and seen["served_model"] == model_id
        assert seen["sim_fingerprint"] == sim_fingerprint()
    assert result["tokens"] == sum(n["tokens_in"] + n["tokens_out"] for n in result["nodes"]) > 0
    assert result["cost_usd"] == pytest.approx(sum(n["cost_usd"] for n in result["nodes"]))
    assert result["flops_units"] > 0 and 0 <= result["critical_path_s"]


def test_run_table_is_labelled_simulated_and_item_by_id_equals_by_index(capsys):
    from rolegraph.tasks.registry import get_task

    second = get_task("gsm8k", data=GSM_TINY).all_items()[1]
    args = ["run", EXAMPLES / "vote5.yaml", "--task", "gsm8k", "--data", GSM_TINY, "--seed", "3"]
    code, out, err = cli([*args, "--item", second.id], capsys)
    assert code == 0, err
    assert "(simulated)" in out and f"gold: {second.gold}" in out
    for node_id in load_graph(EXAMPLES / "vote5.yaml").node_ids:
        assert node_id in out
    by_id = json.loads(cli([*args, "--item", second.id, "--json"], capsys)[1])
    by_index = json.loads(cli([*args, "--item", "1", "--json"], capsys)[1])
    assert by_id == by_index


def test_run_free_form_question_on_sim_is_refused_in_one_line(capsys):
    code, out, err = cli(["run", EXAMPLES / "single.yaml", "What is the capital of France?"], capsys)
    assert_user_error(code, out, err)
    assert len(err.strip().splitlines()) == 1


def test_run_unknown_item_and_task(capsys):
    first = assert_user_error(*cli(["run", EXAMPLES / "single.yaml", "--task", "gsm8k", "--data", GSM_TINY,
                                    "--item", "nope"], capsys))
    assert "no item 'nope'" in first
    assert_user_error(*cli(["run", EXAMPLES / "single.yaml", "--task", "no-such-task"], capsys))


def test_run_table_marks_a_node_cut_at_its_max_tokens(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    path = tmp_path / "cut.yaml"
    path.write_text("name: cut\nnodes:\n"
                    "  - {id: short, role: solver, model: sim/llama-3.2-3b, params: {max_tokens: 8}}\n"
                    "  - {id: roomy, role: solver, model: sim/llama-3.2-3b}\n"
                    "  - {id: f, role: fuser, model: sim/llama-3.1-8b}\n"
                    "edges: [[short, f], [roomy, f]]\n")
    args = ["run", path, "--task", "gsm8k", "--data", GSM_TINY, "--item", "0"]
    code, out, err = cli(args, capsys)
    assert code == 0, err
    row = {line.split()[1]: line for line in out.splitlines() if line.startswith("│ ") and len(line.split()) > 2}
    assert "[cut]" in row["short"] and "[cut]" not in row["roomy"] and "[cut]" not in row["f"]
    assert "replies cut at max_tokens: short (1 of 1)" in out
    code, out, err = cli([*args, "--json"], capsys)  # the documented JSON keeps exactly its keys
    result = json.loads(out)
    assert set(result) == RUN_KEYS | TASK_ITEM_KEYS
    assert all(set(n) == (INSTANCE_KEYS if "instance_of" in n else NODE_KEYS) for n in result["nodes"])



def test_run_of_a_vote_of_five_through_serve_sim_is_one_request(tmp_path, capsys, monkeypatch):
    """The issue's check: five identical solvers through serve-sim make one HTTP request for the five, and give
    the answers of the run with --no-coalesce (six requests)."""
    from rolegraph.models.pool import ModelPool
    from rolegraph.settings import Settings
    from rolegraph.sim.server import ServerThread, create_app

    app = create_app(ModelPool.builtin(), Settings(home=tmp_path / "server"))
    with ServerThread(app) as server:
        pool = tmp_path / "pool.yaml"
        pool.write_text(f"models:\n  - {{id: http/llama-3.2-3b, backend: openai, base_url: '{server.base_url}', "
                        "model: sim/llama-3.2-3b, answer_key: true, params_b: 3.21, layers: 28, hidden: 3072}\n")
        graph = tmp_path / "vote5.yaml"
        solvers = "".join(f"  - {{id: s{i}, role: solver, model: http/llama-3.2-3b}}\n" for i in range(5))
        graph.write_text("name: vote5-same\nnodes:\n" + solvers + "  - {id: f, role: fuser, model: http/llama-3.2-3b}\n"
                         "edges: [" + ", ".join(f"[s{i}, f]" for i in range(5)) + "]\n")
        args = ["run", graph, "--task", "gsm", "--item", "3", "--pool", pool, "--json"]
        code, out, err = cli(args, capsys)
        assert code == 0, err
        assert app.state.stats.requests == 2
        monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "fresh"))  # no cached replies: really call again
        code, out_off, err = cli([*args, "--no-coalesce"], capsys)
        assert code == 0, err
    assert app.state.stats.requests == 2 + 6
    on, off = json.loads(out), json.loads(out_off)
    assert [(n["id"], n["answer"]) for n in on["nodes"]] == [(n["id"], n["answer"]) for n in off["nodes"]]
    assert on["answer"] == off["answer"]


@pytest.fixture
def echo_pool(tmp_path):
    """A pool file whose one model, `ECHO_ID`, is a loopback OpenAI-compatible server that answers with the
    last user message it received."""
    import yaml
    from fastapi import FastAPI

    from rolegraph.sim.server import ServerThread

    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(body: dict):
        asked = [m["content"] for m in body["messages"] if m["role"] == "user"][-1]
        return {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": f"ASKED<{asked}>"}}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}}

    with ServerThread(app) as srv:
        pool = tmp_path / "pool.yaml"
        pool.write_text(yaml.safe_dump({"models": [{"id": ECHO_ID, "backend": "openai", "base_url": srv.base_url,
                                                    "model": "m"}]}))
        yield pool


def _graph_file(tmp_path, nodes, edges=()):
    import yaml

    graph = tmp_path / "g.yaml"
    graph.write_text(yaml.safe_dump({"nodes": nodes, "edges": [list(e) for e in edges]}))
    return graph


def test_run_joins_an_unquoted_questions_words(tmp_path, capsys, echo_pool):
    """`rolegraph run g.yaml What is 2+2?` asks "What is 2+2?" (as `ollama run` takes a prompt)."""
    graph = _graph_file(tmp_path, [{"id": "s", "role": "solver", "model": ECHO_ID}])
    code, out, err = cli(["run", graph, "What", "is", "2+2?", "--pool", echo_pool, "--json"], capsys)
    assert code == 0, err
    output = json.loads(out)["nodes"][0]["output"]
    assert "What is 2+2?" in output and "ASKED<" in output


def test_run_says_when_web_search_fell_back_to_the_offline_index(tmp_path, capsys, echo_pool, monkeypatch):
    """The web fails (the search engine's client raises, as it does offline): the table output names the
    node and the fallback, and --json keeps it on the tool call."""
    from rolegraph.tools import web_search

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(web_search, "_ddgs_text", offline)
    graph = _graph_file(tmp_path, [{"id": "look", "role": "searcher", "model": ECHO_ID},
                                   {"id": "s", "role": "solver", "model": ECHO_ID}], [("look", "s")])
    args = ["run", graph, "Who discovered penicillin?", "--web", "--pool", echo_pool]
    code, out, err = cli(args, capsys)
    assert code == 0, err
    flat = " ".join(out.split())
    assert "note: node look: web search failed (" in flat and "fell back to local search" in flat
    code, out, err = cli([*args, "--json"], capsys)
    calls = json.loads(out)["nodes"][0]["tool_calls"]
    assert calls and calls[0]["note"].endswith("fell back to local search")


@pytest.mark.parametrize("columns", [80, 72])
def test_run_table_on_a_narrow_terminal_wraps_answers_and_keeps_every_column(tmp_path, capsys, echo_pool,
                                                                             monkeypatch, columns):
    """Rich used to squeeze the node and role columns to nothing when answers were long (an 80-column
    terminal, or any pipe); now the model and answer cells wrap and node, role and numbers stay whole."""
    from rich.console import Console

    from rolegraph.cli import tables

    monkeypatch.setattr(tables, "Console", lambda: Console(width=columns, force_terminal=True, color_system=None))
    graph = _graph_file(tmp_path, [{"id": "first", "role": "solver", "model": ECHO_ID},
                                   {"id": "second", "role": "fuser", "model": ECHO_ID}], [("first", "second")])
    code, out, err = cli(["run", graph, "What is the capital of Spain, and why is it there?", "--pool", echo_pool],
                         capsys)
    assert code == 0, err
    table = out.split("answer:")[0]
    assert max(len(line) for line in table.splitlines()) <= columns
    assert "first" in table and "second" in table and "solver" in table and "fuser" in table
    # the $ figure of both rows (the last cell, or "0 $" when stacked): the echo model is unpriced, an actual 0
    assert len(re.findall(r"(?<![0-9.])0 \$|│ +0 │$", table, flags=re.MULTILINE)) == 2


def test_run_table_into_a_pipe_is_printed_whole(tmp_path, capsys, echo_pool):
    graph = _graph_file(tmp_path, [{"id": "first", "role": "solver", "model": ECHO_ID},
                                   {"id": "second", "role": "fuser", "model": ECHO_ID}], [("first", "second")])
    code, out, err = cli(["run", graph, "What is the capital of Spain, and why is it there?", "--pool", echo_pool],
                         capsys)
    assert code == 0, err
    rows = [line for line in out.splitlines() if line.startswith("│")]
    assert len(rows) == 2 and all(ECHO_ID in r and r.strip("│").split("│")[-1].strip() == "0" for r in rows)


def test_run_of_a_model_without_sizes_says_flops_n_a_and_measured_seconds(tmp_path, capsys, echo_pool):
    """The README's promise: a model without params_b/layers/hidden shows FLOPs as n/a, never 0.00."""
    graph = _graph_file(tmp_path, [{"id": "s", "role": "solver", "model": ECHO_ID}])
    code, out, err = cli(["run", graph, "What is 2+2?", "--pool", echo_pool], capsys)
    assert code == 0, err
    out = " ".join(out.split())  # printed lines wrap at the console's width
    assert "FLOPs units n/a (model sizes unknown)" in out and "0.00 FLOPs" not in out
    assert "s: seconds;" in out and "modelled" not in out


def test_a_partly_simulated_runs_seconds_are_labelled_per_kind(tmp_path, capsys, echo_pool):
    graph = _graph_file(tmp_path, [{"id": "s", "role": "solver", "model": ECHO_ID},
                                   {"id": "t", "role": "solver", "model": "sim/llama-3.2-1b"},
                                   {"id": "f", "role": "fuser", "model": "sim/llama-3.2-3b"}],
                        [("s", "f"), ("t", "f")])
    code, out, err = cli(["run", graph, "--task", "gsm", "--item", "0", "--pool", echo_pool], capsys)
    assert code == 0, err
    out = " ".join(out.split())
    assert "partly simulated" in out and "s: seconds (modelled for sim/* nodes)" in out


def test_run_json_on_a_task_item_says_the_item_gold_and_score(capsys):
    """What the text output's gold line says, in the JSON too: a script need not re-score the answer."""
    from rolegraph.tasks.registry import get_task

    code, out, err = cli(["run", ROOT / "examples" / "graphs" / "vote5.yaml", "--task", "gsm", "--item", "3",
                          "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    item = get_task("gsm", seed=0).all_items()[3]
    assert data["item"] == item.id and data["gold"] == item.gold
    assert data["score"] == float(data["answer"] == item.gold)


def test_a_sim_node_in_a_partly_simulated_run_keeps_its_modelled_seconds(tmp_path, capsys, echo_pool):
    """Sim models do not sleep (latency_scale 0): in a graph with a real node, a sim node's time is still its
    modelled latency (as alone), not the ~0 s its call took, and the run's latency counts it."""
    alone = _graph_file(tmp_path, [{"id": "t", "role": "solver", "model": "sim/llama-3.2-3b"}])
    code, out, err = cli(["run", alone, "--task", "gsm", "--item", "0", "--json"], capsys)
    assert code == 0, err
    modelled = json.loads(out)["nodes"][0]["latency_s"]
    assert modelled > 1.0  # a 3B model's modelled seconds for a GSM answer
    mixed = _graph_file(tmp_path, [{"id": "s", "role": "solver", "model": ECHO_ID},
                                   {"id": "t", "role": "solver", "model": "sim/llama-3.2-3b"},
                                   {"id": "f", "role": "fuser", "model": "sim/llama-3.2-1b"}],
                        [("s", "f"), ("t", "f")])
    code, out, err = cli(["run", mixed, "--task", "gsm", "--item", "0", "--pool", echo_pool, "--json"], capsys)
    assert code == 0, err
    run = json.loads(out)
    nodes = {n["id"]: n for n in run["nodes"]}
    assert run["simulation"] == "partly simulated"
    assert nodes["t"]["latency_s"] == pytest.approx(modelled, rel=0.05)
    assert run["latency_s"] >= nodes["t"]["latency_s"] + nodes["f"]["latency_s"] * 0.95

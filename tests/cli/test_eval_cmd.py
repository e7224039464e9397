"""`rolegraph eval` and `rolegraph results` end to end, in-process, on the sim pool."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rolegraph.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "graphs"
SINGLE = str(EXAMPLES / "single.yaml")
VOTE = str(EXAMPLES / "vote5.yaml")
GSM_TINY = str(Path(__file__).resolve().parents[1] / "graphs" / "fixtures" / "gsm8k_tiny.jsonl")
REQUIRED_KEYS = {"task", "n", "accuracy", "ci95", "mean_latency_s", "cost_usd", "tokens", "flops_units", "simulated"}
N = "16"


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_two_graphs_print_the_paired_comparison(capsys):
    code, out, err = run_cli(capsys, "eval", SINGLE, VOTE, "--task", "gsm", "--n", N)
    assert code == 0, err
    assert "2 graphs on gsm (simulated)" in out
    assert "paired comparison against single" in out
    assert "McNemar" in out and "bootstrap" in out
    assert "vote5" in out
    assert "Traceback" not in err and "━" not in err  # no progress bar when stderr is not a terminal


def test_one_graph_prints_summary_and_node_credit(capsys):
    code, out, _ = run_cli(capsys, "eval", VOTE, "--task", "arith", "--n", "8", "--split", "validation")
    assert code == 0
    assert "vote5 on arith (simulated)" in out and "per node" in out and "fuse" in out


def test_json_lines_keys_and_results_read_back(capsys, tmp_path):
    store = str(tmp_path / "store.sqlite")
    code, out, err = run_cli(capsys, "eval", SINGLE, VOTE, "--task", "gsm", "--n", N, "--seed", "2",
                             "--store", store, "--json", "--label", "nightly")
    assert code == 0 and err == ""
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 2
    for obj in lines:
        assert REQUIRED_KEYS <= set(obj)
        assert obj["task"] == "gsm" and obj["n"] == int(N) and obj["simulated"] is True
        assert obj["ci95"][0] <= obj["accuracy"] <= obj["ci95"][1]
    comparison = lines[1]["vs_first"]
    assert comparison["n"] == int(N)
    assert comparison["mean_diff"] == pytest.approx(lines[1]["accuracy"] - lines[0]["accuracy"])

    code, out, _ = run_cli(capsys, "results", "--store", store, "--json")
    assert code == 0
    stored = [json.loads(line) for line in out.splitlines()]
    assert {r["id"] for r in stored} == {obj["run_id"] for obj in lines}
    by_id = {r["id"]: r for r in stored}
    for obj in lines:
        row = by_id[obj["run_id"]]
        assert row["label"] == "nightly" and row["settings"]["seed"] == 2
        assert (row["accuracy"], row["n"], row["tokens"]) == (obj["accuracy"], obj["n"], obj["tokens"])

    code, out, _ = run_cli(capsys, "results", lines[1]["run_id"], "--store", store, "--json")
    one = json.loads(out)
    assert one["accuracy"] == lines[1]["accuracy"] and one["per_node"]["fuse"]["agree_rate"] == 1.0

    code, out, _ = run_cli(capsys, "results", "--store", store)
    assert code == 0 and lines[0]["run_id"] in out and "stored evaluations (simulated)" in out
    assert "…" not in out  # not a terminal: the table is printed whole, no cell cut to fit 80 columns
    code, out, _ = run_cli(capsys, "results", lines[1]["run_id"], "--store", store)
    assert code == 0 and "…" not in out


def test_default_store_lives_in_rolegraph_home(capsys, _isolated_home):
    code, out, _ = run_cli(capsys, "eval", SINGLE, "--task", "arith", "--n", "4", "--json")
    assert code == 0
    assert (_isolated_home / "results.sqlite").is_file()
    code, out2, _ = run_cli(capsys, "results", "--task", "arith", "--json")
    assert json.loads(out2)["id"] == json.loads(out)["run_id"]


@pytest.mark.parametrize("argv, message", [
    (["eval", SINGLE, "--task", "nosuchtask"], "unknown task 'nosuchtask'"),
    (["eval", SINGLE, "--task", "gsm8k", "--data", "/no/such/file.jsonl"], "/no/such/file.jsonl"),
    (["eval", SINGLE, "--task", "gsm", "--split", "dev"], "unknown split 'dev'"),
    (["eval", "/no/graph.yaml", "--task", "gsm"], "graph file not found"),
    (["results", "--store", "/no/such/dir/store.sqlite"], "no results store"),
    (["eval", SINGLE, "--task", "gsm8k", "--data", str(Path(__file__).parents[1] / "tasks" / "fixtures"
                                                         / "gsm8k_tiny.jsonl"), "--task-size", "50"],
     "task 'gsm8k' takes no --task-size"),
    (["eval", SINGLE, "--add-to", "/no/run", "--task-size", "50"], "drop --task-size"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_task_size_generates_that_many_items_and_a_seed_gives_other_items(capsys, tmp_path):
    """`--task-size` sets how many items a generated task has (the whole task is `--split all`), so a router
    can be checked on fresh items the search never saw; another `--seed` draws other questions."""
    store = str(tmp_path / "store.sqlite")
    runs = {}
    for seed in ("0", "1"):
        code, out, err = run_cli(capsys, "eval", SINGLE, "--task", "gsm", "--task-size", "30", "--split", "all",
                                 "--seed", seed, "--store", store, "--json")
        assert code == 0, err
        obj = json.loads(out)
        assert obj["n"] == 30
        runs[seed] = obj["run_id"]
    from rolegraph.evaluate.store import ResultsStore

    with ResultsStore(store) as st:
        ids = {seed: {it.item_id for it in st.load(run).items} for seed, run in runs.items()}
    assert len(ids["0"]) == 30 and ids["0"] != ids["1"]


def test_asking_for_more_items_than_the_split_holds_says_how_many_were_scored(capsys, tmp_path):
    """`--n 200` on a 30-item task scores the 30 and says so on stderr (stdout stays one JSON line)."""
    code, out, err = run_cli(capsys, "eval", SINGLE, "--task", "gsm", "--task-size", "30", "--split", "all",
                             "--n", "200", "--store", str(tmp_path / "s.sqlite"), "--json")
    assert code == 0, err
    assert json.loads(out)["n"] == 30
    assert "has 30 items; scoring 30, not 200 (--task-size gives more)" in err  # --split all is given already
    code, out, err = run_cli(capsys, "eval", SINGLE, "--task", "gsm", "--task-size", "30", "--split", "all",
                             "--n", "20", "--store", str(tmp_path / "s.sqlite"), "--json")
    assert code == 0 and json.loads(out)["n"] == 20
    assert "scoring" not in err
    code, out, err = run_cli(capsys, "eval", SINGLE, "--task", "gsm8k", "--data", GSM_TINY, "--n", "500",
                             "--store", str(tmp_path / "s.sqlite"), "--json")
    assert code == 0 and "(--split all gives more)" in err  # a file task: no --task-size to suggest
    code, out, err = run_cli(capsys, "eval", SINGLE, "--task", "gsm8k", "--data", GSM_TINY, "--n", "500",
                             "--split", "all", "--store", str(tmp_path / "s.sqlite"), "--json")
    assert code == 0 and "(that is all the task has)" in err


def test_malformed_data_file_names_the_line(capsys, tmp_path):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"question": "1+1?", "answer": "#### 2"}\n{not json\n')
    code, _, err = run_cli(capsys, "eval", SINGLE, "--task", "gsm8k", "--data", str(data))
    assert code == 2 and "bad.jsonl" in err and "2" in err
    assert len(err.strip().splitlines()) == 1


def test_world_is_named_and_changes_the_results_and_two_worlds_are_refused(capsys, tmp_path):
    store = str(tmp_path / "store.sqlite")
    objs = {}
    for w in ("0", "3"):
        code, out, err = run_cli(capsys, "eval", VOTE, "--task", "gsm", "--n", "40", "--world", w, "--json",
                                 "--store", store, "--no-cache")
        assert code == 0, err
        objs[w] = json.loads(out)
        assert objs[w]["world"] == int(w) and objs[w]["simulated"] is True
    assert (objs["0"]["accuracy"], objs["0"]["cost_usd"]) != (objs["3"]["accuracy"], objs["3"]["cost_usd"])
    code, out, _ = run_cli(capsys, "results", objs["3"]["run_id"], "--store", store)
    assert code == 0 and "(simulated) in world 3" in out
    pool = tmp_path / "pool.yaml"
    pool.write_text("world: 2\nmodels: []\n")
    code, out, err = run_cli(capsys, "eval", VOTE, "--task", "gsm", "--n", "4", "--pool", str(pool), "--world", "3")
    assert code == 2 and err.count("\n") == 1 and "world" in err and "Traceback" not in err


def test_a_benchmark_files_default_split_says_it_is_a_fixed_part_of_the_file(capsys, tmp_path):
    """An official test file scored with the default split is a quarter of it: the figure is not the
    file's, so stderr says so; --split all (or a generated task) prints no such note."""
    from rolegraph.tasks.registry import get_task

    task = get_task("gsm8k", data=GSM_TINY)
    held, whole = len(task.items("test")), len(task.all_items())
    assert held < whole
    code, out, err = run_cli(capsys, "eval", SINGLE, "--task", "gsm8k", "--data", GSM_TINY,
                             "--store", str(tmp_path / "s.sqlite"), "--json")
    assert code == 0 and json.loads(out)["n"] == held
    assert f"note: split 'test' of task 'gsm8k' is {held} of its {whole} items (a fixed hold-out)" in err
    for extra in (["--split", "all"], ["--n", str(held)]):
        code, out, err = run_cli(capsys, "eval", SINGLE, "--task", "gsm8k", "--data", GSM_TINY, *extra,
                                 "--store", str(tmp_path / "s.sqlite"), "--json")
        assert code == 0 and "fixed hold-out" not in err
    code, out, err = run_cli(capsys, "eval", SINGLE, "--task", "gsm", "--task-size", "40",
                             "--store", str(tmp_path / "s.sqlite"), "--json")
    assert code == 0 and "fixed hold-out" not in err


def test_an_all_simulated_eval_says_only_the_simulated_sentence(capsys, tmp_path):
    code, out, err = run_cli(capsys, "eval", SINGLE, "--task", "gsm", "--n", "4", "--store", str(tmp_path / "s.sqlite"))
    assert code == 0, err
    text = " ".join(out.split())
    assert "simulated: sim models are stand-ins calibrated to published numbers" in text
    assert "partly simulated" not in text

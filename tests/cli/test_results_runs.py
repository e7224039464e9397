"""`rolegraph results` against what `rolegraph eval` printed: calls of loop rounds and fan-out copies, the
stored run's settings, the listing's columns and limit, and a narrow terminal."""
from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from rolegraph.evaluate.report import runs_table
from rolegraph.evaluate.store import ResultsStore
from rolegraph.money import money
from tests.cli.support import run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "graphs"
CONTEXT = [["Penicillin", ["Penicillin was discovered by Alexander Fleming in 1928."]],
           ["Alexander Fleming", ["Alexander Fleming was born in Darvel, Scotland."]]]
QUESTIONS = [
    ("q1", "Who discovered penicillin?", "Alexander Fleming"),
    ("q2", "Who discovered penicillin? Where was the discoverer born; and in which country is that town?", "Darvel"),
]
NARROW = 80


def _eval_json(capsys, *argv) -> dict:
    code, out, err = run_cli(capsys, "eval", *argv, "--json")
    assert code == 0, err
    return json.loads(out.splitlines()[0])


def test_a_stored_loop_run_counts_every_round_and_keeps_its_settings(capsys, tmp_path):
    store = tmp_path / "r.sqlite"
    live = _eval_json(capsys, EXAMPLES / "debate.yaml", "--task", "gsm", "--n", 6, "--world", 5, "--store", store)
    assert live["calls"] > live["n"]  # rounds of a and b besides the judge's one call per item
    code, out, err = run_cli(capsys, "results", live["run_id"], "--store", store, "--json")
    assert code == 0, err
    back = json.loads(out)
    keys = ("calls", "cached_calls", "tokens")
    assert [back[k] for k in keys] == [live[k] for k in keys]
    assert back["per_node"]["a"]["n"] == 6 and back["per_node"]["b"]["correct_rate"] is not None
    assert back["graph_hash"] and back["created"]
    assert back["settings"]["graph_file"].endswith("debate.yaml") and back["settings"]["split"] == "test"
    assert back["settings"]["seed"] == 0
    code, out, _ = run_cli(capsys, "results", live["run_id"], "--store", store)
    assert back["graph_hash"] in out and "debate.yaml" in out and "split" in out


def test_fanout_copies_are_credited_and_stored(capsys, tmp_path):
    data = tmp_path / "qa.json"
    data.write_text(json.dumps([{"_id": i, "question": q, "answer": a, "supporting_facts": [], "context": CONTEXT}
                                for i, q, a in QUESTIONS]))
    store = tmp_path / "r.sqlite"
    live = _eval_json(capsys, EXAMPLES / "mindsearch.yaml", "--task", "hotpotqa", "--data", data, "--split", "all",
                      "--store", store)
    with ResultsStore(store) as s:
        back = s.load(live["run_id"])
    assert back.per_node["search"].n == 2  # every item spawned copies search[1], ...
    assert back.calls == live["calls"] > 2 * len(back.per_node)


def test_listing_compares_runs_and_says_when_the_limit_cut_it(capsys, tmp_path):
    store = tmp_path / "r.sqlite"
    for graph in ("single.yaml", "vote5.yaml", "single.yaml"):
        _eval_json(capsys, EXAMPLES / graph, "--task", "gsm", "--n", 3, "--store", store)
    code, out, err = run_cli(capsys, "results", "--store", store, "--limit", 2)
    assert code == 0, err
    assert "cost" in out and "FLOPs" in out and "latency" in out and "graph hash" in out
    assert "$0.0" in out and " s " in out  # the figures, not only the headers
    assert "2 of 3" in out + err and "--limit" in out + err
    code, out, err = run_cli(capsys, "results", "--store", store, "--limit", 2, "--json")
    assert len(out.splitlines()) == 2 and all(json.loads(line) for line in out.splitlines())
    assert "2 of 3" in err  # stdout stays JSON Lines
    code, out, err = run_cli(capsys, "results", "--store", store)
    assert "of 3" not in out + err


def test_two_graphs_of_one_name_are_told_apart_and_nothing_is_cut_at_80_columns(capsys, tmp_path):
    store = tmp_path / "r.sqlite"
    for graph in ("single.yaml", "vote5.yaml"):
        _eval_json(capsys, EXAMPLES / graph, "--task", "gsm", "--n", 3, "--store", store, "--label", "best")
    with ResultsStore(store) as s:
        runs = s.runs()
    hashes = {r["graph_hash"][:8] for r in runs}
    buf = io.StringIO()
    Console(file=buf, width=NARROW).print(runs_table(runs, width=NARROW))
    text = buf.getvalue()
    assert len(hashes) == 2 and all(h in text for h in hashes)
    assert "…" not in text
    assert all(len(line) <= NARROW for line in text.splitlines())
    assert "accuracy" in text.replace("\n", "")  # a header folds or wraps, never "accu…"


def test_results_of_a_simulated_run_print_only_the_simulated_note(capsys, tmp_path):
    store = tmp_path / "r.sqlite"
    live = _eval_json(capsys, EXAMPLES / "single.yaml", "--task", "gsm", "--n", 2, "--store", store)
    for argv in (["results", live["run_id"]], ["results"]):
        code, out, err = run_cli(capsys, *argv, "--store", store)
        assert code == 0, err
        text = " ".join(out.split())
        assert "not real-model results" in text and "partly" not in text


def test_the_listing_says_its_cost_is_each_runs_total(capsys, tmp_path, monkeypatch):
    """report.md and optimize --json give $ per item; the listing gives a run's total, and says so (wide and
    stacked layouts alike)."""
    store = tmp_path / "r.sqlite"
    live = _eval_json(capsys, EXAMPLES / "vote5.yaml", "--task", "gsm", "--n", 3, "--store", store)
    for columns in ("200", "60"):
        monkeypatch.setenv("COLUMNS", columns)
        code, out, err = run_cli(capsys, "results", "--store", store)
        assert code == 0, err
        total = money(live["cost_usd"])
        assert "cost (total)" in out or f"{total} total" in out, out
        assert total in out and money(live["cost_usd_per_item"]) != total

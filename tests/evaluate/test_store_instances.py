"""The store keeps loop rounds and fan-out copies: a run read back counts the calls and credit of the live one."""
from __future__ import annotations

import sqlite3

from rolegraph.evaluate.aggregate import summarize
from rolegraph.evaluate.result import ItemScore, NodeUsage
from rolegraph.evaluate.store import MIGRATIONS, ResultsStore
from rolegraph.graphs.spec import GraphSpec

SPEC = GraphSpec.model_validate({
    "name": "debate",
    "nodes": [{"id": "a", "role": "solver", "model": "sim/llama-3.2-3b"},
              {"id": "judge", "role": "fuser", "model": "sim/llama-3.1-8b"}],
    "edges": [["a", "judge"]],
})
TRACES = {"a@1": ("8", 0.0), "a@2": ("7", 1.0), "judge": ("7", 1.0)}


def _result():
    items = [ItemScore(item_id=f"q{i}", score=1.0, answer="7", gold="7",
                       node_answers={k: a for k, (a, _) in TRACES.items()},
                       node_scores={k: s for k, (_, s) in TRACES.items()},
                       node_usage={k: NodeUsage(calls=2, cached_calls=1, tokens_in=10) for k in TRACES})
             for i in range(3)]
    return summarize(items, SPEC, task="gsm", graph_hash="h", skipped=0, simulation="simulated")


def test_rounds_are_stored_with_their_graph_nodes_role_and_model(tmp_path):
    result = _result()
    with ResultsStore(tmp_path / "r.sqlite") as store:
        run_id = store.save(result, SPEC, settings={"seed": 1, "split": "test"})
        back = store.load(run_id)
        info = store.run(run_id)
    assert (back.calls, back.cached_calls) == (result.calls, result.cached_calls) == (18, 9)
    assert back.per_node == result.per_node and back.per_node["a"].n == 3
    assert back.per_node["a"].correct_rate == 1.0  # the last round's answer
    assert info["graph_hash"] == "h" and info["settings"]["seed"] == 1 and info["created"]
    db = sqlite3.connect(tmp_path / "r.sqlite")
    rows = set(db.execute("SELECT node_id, role, model FROM node_traces WHERE seq = 0"))
    assert ("a@2", "solver", "sim/llama-3.2-3b") in rows and len(rows) == 3


def test_a_store_written_before_rounds_were_kept_still_opens_and_loads(tmp_path):
    """No schema change was needed: older stores (spec-node rows only, schema v5) open and load as before."""
    path = tmp_path / "r.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for statements in MIGRATIONS[:5]:
        for statement in statements:
            db.execute(statement)
    db.execute("INSERT INTO schema_version VALUES (5)")
    db.execute("INSERT INTO runs VALUES ('old', '2025-01-01', 'gsm', NULL, 'h', 'debate', ?, '{}', 1, 1.0, 0.5, "
               "1.0, 0.1, 0.1, 0.1, 10, 0.0, 1.0, 0, 0, 1, 0, 'simulated', NULL)", (SPEC.model_dump_json(),))
    db.execute("INSERT INTO items (run_id, seq, item_id, score, answer, gold, latency_s, critical_path_s, cost_usd, "
               "tokens, flops_units) VALUES ('old', 0, 'q0', 1.0, '7', '7', 0.1, 0.1, 0.0, 10, 1.0)")
    db.execute("INSERT INTO node_traces VALUES ('old', 0, 'q0', 'judge', 'fuser', 'm', 1, '7', 1.0, 5, 5, 0.1, 0.0, "
               "0, 1, 0)")
    db.commit()
    db.close()
    with ResultsStore(path) as store:
        old = store.load("old")
        assert store.count() == 1 and store.run("old")["graph_hash"] == "h"
    assert old.calls == 1 and old.per_node["judge"].n == 1 and old.per_node["a"].n == 0

"""The results store on real SQLite: round trips, listing, migrations, and several writer processes."""
from __future__ import annotations

import multiprocessing as mp
import sqlite3

import pytest

from rolegraph.evaluate.aggregate import summarize
from rolegraph.evaluate.result import EvalResult, ItemScore, NodeUsage
from rolegraph.evaluate.store import MIGRATIONS, ResultsStore, StoreError
from rolegraph.graphs.spec import GraphSpec

WRITERS = 4
SAVES_PER_WRITER = 15
ITEMS_PER_RUN = 12


def vote_graph(name: str = "vote") -> GraphSpec:
    return GraphSpec.model_validate({
        "name": name,
        "nodes": [{"id": "p", "role": "planner", "model": "sim/llama-3.2-1b"},
                  {"id": "a", "role": "solver", "model": "sim/llama-3.2-3b"},
                  {"id": "b", "role": "solver", "model": "sim/llama-3.2-1b"},
                  {"id": "f", "role": "fuser", "model": "sim/llama-3.1-8b", "params": {"temperature": 0.2}}],
        "edges": [["p", "a"], ["p", "b"], ["a", "f"], ["b", "f"]],
    })


def make_result(spec: GraphSpec, n: int = ITEMS_PER_RUN, offset: int = 0, task: str = "gsm") -> EvalResult:
    """Items with a pattern of right, wrong and failed runs; answers differ per node."""
    items = []
    for i in range(n):
        k = i + offset
        if k % 7 == 3:
            items.append(ItemScore(item_id=f"q{i}", gold=str(k), error="node 'a' failed: model error",
                                   cost_usd=0.001, tokens=50, node_usage={"p": NodeUsage(tokens_in=40, tokens_out=10)}))
            continue
        right = k % 3 != 0
        ans = str(k) if right else str(k + 1)
        b_ans = None if k % 5 == 0 else str(k)
        node_answers = {"p": None, "a": ans, "b": b_ans, "f": ans}
        node_scores = {nid: float(a == str(k)) for nid, a in node_answers.items() if a is not None}
        usage = {nid: NodeUsage(tokens_in=100 + j, tokens_out=20 + j, latency_s=0.1 * (j + 1), cost_usd=1e-5 * (j + 1),
                                truncated_calls=int(nid == "b" and k % 4 == 0))
                 for j, nid in enumerate(node_answers)}
        items.append(ItemScore(item_id=f"q{i}", score=float(right), answer=ans, gold=str(k), latency_s=0.5 + 0.01 * k,
                               critical_path_s=0.4 + 0.01 * k, cost_usd=sum(u.cost_usd for u in usage.values()),
                               tokens=sum(u.tokens_in + u.tokens_out for u in usage.values()), flops_units=3.5,
                               node_answers=node_answers, node_scores=node_scores, node_usage=usage))
    return summarize(items, spec, task=task, graph_hash="abc123", skipped=2, simulation="simulated")


def test_round_trip_keeps_every_field(tmp_path):
    spec = vote_graph()
    result = make_result(spec)
    assert result.failures > 0 and 0 < result.accuracy < 1  # the fixture exercises every path
    with ResultsStore(tmp_path / "r.sqlite") as store:
        run_id = store.save(result, spec, label="first", settings={"seed": 3, "split": "test"})
        back = store.load(run_id)
        assert store.graph(run_id) == spec
    assert back.run_id == run_id
    assert back.model_dump(exclude={"run_id"}) == result.model_dump(exclude={"run_id"})
    assert back.per_node["b"].correct_rate == result.per_node["b"].correct_rate
    assert back.per_node["p"].correct_rate is None


def test_reopened_store_lists_runs_newest_first(tmp_path):
    path = tmp_path / "r.sqlite"
    spec = vote_graph()
    with ResultsStore(path) as store:
        ids = [store.save(make_result(spec, offset=i, task=task), spec, label=f"run{i}")
               for i, task in enumerate(["gsm", "mmlu", "gsm"])]
    with ResultsStore(path) as store:
        runs = store.runs()
        assert [r["id"] for r in runs] == ids[::-1]
        gsm = store.runs(task="gsm")
        assert [r["id"] for r in gsm] == [ids[2], ids[0]]
        assert len(store.runs(limit=1)) == 1
        first = store.runs(task="mmlu")[0]
        expected = make_result(spec, offset=1, task="mmlu").summary()
        for key in ("task", "n", "accuracy", "ci95", "cost_usd", "tokens", "flops_units", "failures", "simulated"):
            assert first[key] == expected[key], key  # SQLite REAL holds a double exactly
        assert first["label"] == "run1"


def test_tables_are_relational(tmp_path):
    spec = vote_graph()
    result = make_result(spec)
    path = tmp_path / "r.sqlite"
    with ResultsStore(path) as store:
        run_id = store.save(result, spec)
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM items WHERE run_id = ?", (run_id,)).fetchone()[0] == result.n
    ok_items = result.n - result.failures
    # every node of every finished item, plus the planner of each failed item
    assert db.execute("SELECT count(*) FROM node_traces WHERE run_id = ?", (run_id,)).fetchone()[0] == \
        ok_items * len(spec.nodes) + result.failures
    roles = dict(db.execute("SELECT DISTINCT node_id, role FROM node_traces").fetchall())
    assert roles == {"p": "planner", "a": "solver", "b": "solver", "f": "fuser"}
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT version FROM schema_version").fetchone()[0] == len(MIGRATIONS)


def test_unknown_run_and_unopenable_store(tmp_path):
    with ResultsStore(tmp_path / "r.sqlite") as store:
        with pytest.raises(StoreError, match="no stored run"):
            store.load("nope")
    (tmp_path / "junk.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot open"):
        ResultsStore(tmp_path / "junk.sqlite")


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "r.sqlite"
    ResultsStore(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE schema_version SET version = 99")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer"):
        ResultsStore(path)


def _writer(path: str, worker: int, barrier) -> None:
    spec = vote_graph(f"g{worker}")
    store = ResultsStore(path)
    barrier.wait()
    for i in range(SAVES_PER_WRITER):
        store.save(make_result(spec, offset=worker * 100 + i), spec, label=f"w{worker}-{i}")
    store.close()


def test_concurrent_writer_processes_lose_no_rows(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    barrier = ctx.Barrier(WRITERS)
    procs = [ctx.Process(target=_writer, args=(path, w, barrier)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * WRITERS
    with ResultsStore(path) as store:
        runs = store.runs()
        assert len(runs) == WRITERS * SAVES_PER_WRITER
        assert sorted(r["label"] for r in runs) == sorted(f"w{w}-{i}" for w in range(WRITERS)
                                                          for i in range(SAVES_PER_WRITER))
        for r in runs:
            assert len(store.load(r["id"]).items) == ITEMS_PER_RUN


def test_label_and_provenance_are_stored_and_read_back(tmp_path):
    from rolegraph.models.provenance import ModelProvenance, Provenance

    spec = vote_graph()
    result = make_result(spec)
    result.simulation, result.simulated = "partly simulated", False
    result.provenance = Provenance(rolegraph_version="9.9", simulation="partly simulated", seed=3, models={
        "m": ModelProvenance(backend="openai", api_name="x", endpoint="http://127.0.0.1:1/v1", served_model="srv-1",
                             simulated=False)})
    with ResultsStore(tmp_path / "r.sqlite") as store:
        run_id = store.save(result, spec)
        back = store.load(run_id)
        listed = store.runs()[0]
    assert back.simulation == "partly simulated" and back.simulated is False
    assert back.provenance == result.provenance and back.provenance.models["m"].served_model == "srv-1"
    assert listed["simulation"] == "partly simulated" and listed["simulated"] is False


def test_a_version_1_store_is_migrated_and_keeps_its_runs(tmp_path):
    """A store written before node_traces had truncated_calls opens, upgrades, and loads old rows as unknown."""
    path = tmp_path / "r.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for statement in MIGRATIONS[0]:
        db.execute(statement)
    db.execute("INSERT INTO schema_version VALUES (1)")
    db.commit()
    db.close()
    spec = vote_graph()
    result = make_result(spec)
    assert result.per_node["b"].truncated > 0
    with ResultsStore(path) as store:
        run_id = store.save(result, spec)
        assert store.load(run_id).per_node["b"].truncated == result.per_node["b"].truncated
    db = sqlite3.connect(path)
    assert db.execute("SELECT version FROM schema_version").fetchone()[0] == len(MIGRATIONS) == 6
    db.execute("UPDATE node_traces SET truncated_calls = NULL")  # as rows from before the column
    db.execute("UPDATE runs SET simulation = NULL, provenance = NULL")  # as runs from before version 3
    db.commit()
    db.close()
    with ResultsStore(path) as store:
        old = store.load(run_id)
        assert old.per_node["b"].truncated is None
        assert old.simulation == "simulated" and old.provenance is None  # the old flag read as the label
        assert store.runs()[0]["simulation"] == "simulated"



def _with_signals(result: EvalResult) -> EvalResult:
    items = [it.model_copy(update={"agreement": (i % 4) / 3 if i % 5 else None, "verified": [None, True, False][i % 3],
                                   "logprob": -0.1 * i if i % 2 else None, "stage": 1 + i % 2})
             for i, it in enumerate(result.items)]
    return result.model_copy(update={"items": items})


def test_observed_signals_round_trip(tmp_path):
    spec = vote_graph()
    result = _with_signals(make_result(spec))
    with ResultsStore(tmp_path / "r.sqlite") as store:
        back = store.load(store.save(result, spec))
    for a, b in zip(result.items, back.items):
        assert (a.agreement, a.verified, a.logprob, a.stage) == (b.agreement, b.verified, b.logprob, b.stage)
    assert any(it.verified is False for it in back.items) and any(it.agreement is None for it in back.items)


def test_a_version_2_store_is_migrated_to_signals_and_paired_sets(tmp_path):
    """Rows written before version 3 load with no signals (None: not observed), never as "disagreed"."""
    path = tmp_path / "r.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for statements in MIGRATIONS[:2]:
        for statement in statements:
            db.execute(statement)
    db.execute("INSERT INTO schema_version VALUES (2)")
    db.execute("INSERT INTO runs VALUES ('old', '2025-01-01', 'gsm', NULL, 'h', 'g', ?, '{}', 1, 1.0, 0.5, 1.0, "
               "0.1, 0.1, 0.1, 10, 0.0, 1.0, 0, 0, 1, 0)", (vote_graph().model_dump_json(),))
    db.execute("INSERT INTO items VALUES ('old', 0, 'q0', 1.0, '3', '3', 0.1, 0.1, 0.0, 10, 1.0, NULL)")
    db.commit()
    db.close()
    with ResultsStore(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        old = store.load("old")
        assert old.items[0].agreement is None and old.items[0].verified is None and old.items[0].stage is None
        assert store.paired("front", "validation") == []


def test_paired_sets_hold_runs_on_the_same_items(tmp_path):
    spec, other = vote_graph("a"), vote_graph("b")
    with ResultsStore(tmp_path / "r.sqlite") as store:
        first = make_result(spec)
        first.run_id = store.save(first, spec)
        second = make_result(other).model_copy(update={"graph_hash": "def456"})
        second.run_id = store.save(second, other)
        store.pair("front", "validation", first, "front")
        store.pair("front", "validation", second, "eval")
        elsewhere = make_result(other, offset=100).model_copy(update={"graph_hash": "x"})
        elsewhere.items = [it.model_copy(update={"item_id": f"z{i}"}) for i, it in enumerate(elsewhere.items)]
        elsewhere.run_id = store.save(elsewhere, other)
        with pytest.raises(StoreError, match="other items"):
            store.pair("front", "validation", elsewhere, "eval")
        again = make_result(spec)
        again.run_id = store.save(again, spec)
        store.pair("front", "validation", again, "front")  # the same graph again: replaces its entry
        rows = store.paired("front", "validation")
        assert [(r.graph_hash, r.source) for r in rows] == [("def456", "eval"), ("abc123", "front")]
        assert rows[1].run_id == again.run_id and rows[0].n == ITEMS_PER_RUN
        assert store.paired("front", "test") == [] and store.paired("other", "validation") == []

"""What the results store keeps of a run beyond its items: whether it stopped part way, the requests abandoned at a
timeout and their worst-case dollars, the items with trimmed evidence, the simulator world (loaded back and listed
alike), node answers and log-probabilities, mean and p95 latency apart; a store one schema version newer is refused;
and the identity of an ordered item list, which pairs runs item by item, tells ["a1", "b"] from ["a", "1b"]."""
import sqlite3

import pytest

from rolegraph.evaluate.store import MIGRATIONS, ResultsStore, StoreError, items_hash
from tests.evaluate.test_store import make_result, vote_graph


def test_a_runs_counts_and_world_are_loaded_back_and_listed(tmp_path):
    spec = vote_graph()
    result = make_result(spec).model_copy(
        update={"timed_out_attempts": 3, "timed_out_usd": 0.25, "trimmed_items": 2, "world": 7, "partial": True})
    with ResultsStore(tmp_path / "r.sqlite") as store:
        run_id = store.save(result, spec)
        back = store.load(run_id)
        listed = store.runs()[0]
    assert (back.timed_out_attempts, back.timed_out_usd, back.trimmed_items, back.world, back.partial) == (
        3, 0.25, 2, 7, True)
    assert (listed["timed_out_attempts"], listed["timed_out_usd"], listed["trimmed_items"], listed["world"],
            listed["partial"]) == (3, 0.25, 2, 7, True)


def test_the_items_hash_separates_the_item_ids():
    assert items_hash(["a1", "b"]) != items_hash(["a", "1b"])
    assert items_hash(["a", "b"]) != items_hash(["b", "a"])


def test_a_node_answer_without_usage_is_kept(tmp_path):
    spec = vote_graph()
    result = make_result(spec)
    item = next(it for it in result.items if it.node_answers.get("f") is not None)
    del item.node_usage["f"]  # an answer recorded for a node whose usage was not
    with ResultsStore(tmp_path / "r.sqlite") as store:
        back = store.load(store.save(result, spec))
    kept = next(it for it in back.items if it.item_id == item.item_id)
    assert kept.node_answers["f"] == item.node_answers["f"]


def test_a_nodes_mean_log_probability_is_kept(tmp_path):
    spec = vote_graph()
    result = make_result(spec)
    item = next(it for it in result.items if "a" in it.node_usage)
    item.node_usage["a"].logprob = -0.25
    with ResultsStore(tmp_path / "r.sqlite") as store:
        back = store.load(store.save(result, spec))
    kept = next(it for it in back.items if it.item_id == item.item_id)
    assert kept.node_usage["a"].logprob == -0.25 and kept.node_usage["f"].logprob is None


def test_count_counts_the_runs_of_one_task(tmp_path):
    spec = vote_graph()
    with ResultsStore(tmp_path / "r.sqlite") as store:
        for task in ("gsm", "gsm", "math"):
            store.save(make_result(spec, n=3, task=task), spec)
        assert (store.count(), store.count("gsm"), store.count("math"), store.count("code")) == (3, 2, 1, 0)


def test_the_listing_keeps_mean_and_p95_latency_apart(tmp_path):
    spec = vote_graph()
    result = make_result(spec)
    assert result.mean_latency_s != result.p95_latency_s
    with ResultsStore(tmp_path / "r.sqlite") as store:
        store.save(result, spec)
        listed = store.runs()[0]
    assert (listed["mean_latency_s"], listed["p95_latency_s"]) == (result.mean_latency_s, result.p95_latency_s)


def test_a_store_one_schema_version_newer_is_refused(tmp_path):
    path = tmp_path / "r.sqlite"
    ResultsStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version = ?", (len(MIGRATIONS) + 1,))
    db.close()
    with pytest.raises(StoreError, match=f"store schema v{len(MIGRATIONS) + 1} is newer than this rolegraph"):
        ResultsStore(path)

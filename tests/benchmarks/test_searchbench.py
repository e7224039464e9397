"""The search benchmarks' truth: an exact tier on items of its own for the graphs that decide the target, and the
record of what a search would have picked (so a later truth can judge it again)."""
from __future__ import annotations

from benchmarks.common import BenchRun
from benchmarks.generalization import pool_picks, world_pool
from benchmarks.searchbench import EXACT_SEED, TRUTH_SEED, Bench, _choices
from benchmarks.synthetic import synthetic_items
from benchmarks.truth import TruthTable, shape_key
from rolegraph.graphs.spec import GraphSpec, NodeSpec

CFG = {"truth_items": 40, "fine_truth_items": 80, "fine_margin": 0.2, "exact_truth_items": 120,
       "exact_margin": 0.1, "task_items": 40, "max_nodes": 3, "check_items": 2}


def test_the_graphs_nearest_the_top_are_judged_on_items_of_their_own(tmp_path):
    run = BenchRun()
    bench = Bench(world_pool(0), run.scratch_home(), tmp_path)
    try:
        s = bench.setting("math", 18.0, CFG, check=False)
        fine = TruthTable(bench.executor, synthetic_items("math", 80, seed=TRUTH_SEED), name="fine-check",
                          results_dir=tmp_path)
        exact = TruthTable(bench.executor, synthetic_items("math", 120, seed=EXACT_SEED), name="exact-check",
                           results_dir=tmp_path)
        fine_top = max(fine.accuracy(g) for g in s.graphs if shape_key(g) in s.fine_keys)
        nearest = {shape_key(g) for g in s.graphs if shape_key(g) in s.fine_keys
                   and fine.accuracy(g) >= fine_top - CFG["exact_margin"]}
        assert s.exact_keys == nearest and 0 < len(nearest) < len(s.fine_keys) < len(s.graphs)
        for g in s.graphs:
            if shape_key(g) in nearest:
                assert s.accuracy(g) == s.accuracies[shape_key(g)] == exact.accuracy(g)
        assert any(exact.accuracy(g) != fine.accuracy(g) for g in s.graphs if shape_key(g) in nearest)
        assert s.optimum == max(s.accuracies.values()) and s.optimum_key in nearest
        exact_ids = {i.id for i in synthetic_items("math", 120, seed=EXACT_SEED)}
        assert not exact_ids & {i.id for i in synthetic_items("math", 80, seed=TRUTH_SEED)}
    finally:
        bench.close()
        run.remove_scratch()


def _chain(name: str, a: str, b: str) -> GraphSpec:
    return GraphSpec(name=name, nodes=[NodeSpec(id=a, role="solver", model="m1"),
                                       NodeSpec(id=b, role="fuser", model="m2")], edges=[(a, b)], output=b)


def test_the_picks_are_stored_once_per_graph_up_to_isomorphism():
    one, same, other = _chain("x", "s", "f"), _chain("y", "p", "q"), _chain("z", "s", "f").model_copy(
        update={"nodes": [NodeSpec(id="s", role="solver", model="m2"), NodeSpec(id="f", role="fuser", model="m2")]})
    out = _choices([(10, one), (20, other), (30, same)])
    assert out["choices"] == [(10, 0), (20, 1), (30, 0)]
    assert [GraphSpec.model_validate(p).nodes[0].model for p in out["picked"]] == ["m1", "m2"]


def test_a_settings_picks_are_pooled_once_and_each_run_points_into_them():
    one, same, other = _chain("x", "s", "f"), _chain("y", "p", "q"), _chain("z", "s", "f").model_copy(
        update={"nodes": [NodeSpec(id="s", role="solver", model="m2"), NodeSpec(id="f", role="fuser", model="m2")]})
    runs = {"a": [_choices([(10, one), (20, other)])], "b": [_choices([(5, other), (9, same)])]}
    pooled = pool_picks(runs)
    assert len(pooled) == 2 and all("picked" not in r for rs in runs.values() for r in rs)
    models = [GraphSpec.model_validate(p).nodes[0].model for p in pooled]
    assert [(e, models[i]) for e, i in runs["b"][0]["choices"]] == [(5, "m2"), (9, "m1")]
    assert [(e, models[i]) for e, i in runs["a"][0]["choices"]] == [(10, "m1"), (20, "m2")]

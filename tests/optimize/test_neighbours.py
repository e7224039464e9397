"""Neighbours: every graph one edit away, inside the budget, with no order of models assumed."""
from collections import Counter

from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.optimize.neighbours import neighbours
from rolegraph.optimize.space import SearchSpace

ONE_B, THREE_B, EIGHT_B = "sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b"


def space(pool, budget: float, worker_edges: bool = False) -> SearchSpace:
    return SearchSpace(pool=pool, models=(ONE_B, THREE_B, EIGHT_B), roles=("solver", "fuser"), max_nodes=5,
                       budget=budget, worker_edges=worker_edges)


def composition(spec: GraphSpec):
    out = spec.node(spec.output_id())
    return Counter((n.model, n.role) for n in spec.nodes if n.id != out.id), (out.model, out.role), len(spec.edges)


def distance(a: GraphSpec, b: GraphSpec) -> int:
    """Node edits between two fan-in graphs (worker multiset difference, output change)."""
    wa, oa, _ = composition(a)
    wb, ob, _ = composition(b)
    return max(sum((wa - wb).values()), sum((wb - wa).values())) + (oa != ob)


def base() -> GraphSpec:
    nodes = [NodeSpec(id="n0", role="solver", model=ONE_B), NodeSpec(id="n1", role="solver", model=THREE_B),
             NodeSpec(id="out", role="fuser", model=THREE_B)]
    return GraphSpec(name="g", nodes=nodes, edges=[("n0", "out"), ("n1", "out")], output="out")


def test_every_neighbour_is_one_edit_away_and_fits(pool):
    sp = space(pool, 42.0)
    found = neighbours(sp, base())
    assert found
    for _, g in found:
        assert sp.fits(g)
        assert distance(base(), g) == 1
    models = {n.model for _, g in found for n in g.nodes}
    assert EIGHT_B in models  # a 1B worker may become an 8B one directly: no order by size


def test_it_grows_shrinks_and_changes_the_output(pool):
    sp = space(pool, 42.0)
    sizes = Counter(len(g.nodes) for _, g in neighbours(sp, base()))
    assert sizes[4] > 0 and sizes[2] > 0 and sizes[3] > 0
    outs = {composition(g)[1] for _, g in neighbours(sp, base())}
    assert (EIGHT_B, "fuser") in outs and (THREE_B, "solver") in outs


def test_a_tight_budget_leaves_out_what_does_not_fit(pool):
    tight = space(pool, 12.0)
    loose = space(pool, 42.0)
    assert len(neighbours(tight, base())) < len(neighbours(loose, base()))
    assert all(tight.fits(g) for _, g in neighbours(tight, base()))


def test_worker_edges_are_toggled_when_the_space_has_them(pool):
    sp = space(pool, 42.0, worker_edges=True)
    inner = [g for _, g in neighbours(sp, base()) if ("n0", "n1") in g.edges]
    assert inner and all(sp.fits(g) for g in inner)

import json

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolegraph.graphs.io import graph_hash
from rolegraph.graphs.nx import to_networkx
from rolegraph.graphs.validate import validate_graph
from rolegraph.optimize.choices import Choices, edge_pairs, from_graph, realise
from rolegraph.optimize.probabilistic import Logits, ProbabilisticGraph
from rolegraph.optimize.space import OUTPUT_ID, SearchSpace

from .conftest import SIM_MODELS

BUDGETS = (3.0, 8.0, 18.0, 42.0, 80.0)


def _space(pool, budget, max_nodes, worker_edges=True):
    return SearchSpace(pool=pool, models=SIM_MODELS, budget=budget, max_nodes=max_nodes, worker_edges=worker_edges)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), budget=st.sampled_from(BUDGETS), max_nodes=st.integers(1, 9),
       scale=st.floats(0.0, 4.0), worker_edges=st.booleans())
def test_samples_are_valid_acyclic_reach_output_and_fit(pool, seed, budget, max_nodes, scale, worker_edges):
    space = _space(pool, budget, max_nodes, worker_edges)
    pg = ProbabilisticGraph(space)
    rng = np.random.default_rng(seed)
    pg.logits = Logits(*(rng.normal(0, scale, a.shape) for a in pg.logits.arrays()))
    spec = pg.sample(rng)
    assert validate_graph(spec, pool) == []
    g = to_networkx(spec)
    assert nx.is_directed_acyclic_graph(g)
    assert all(n == OUTPUT_ID or nx.has_path(g, n, OUTPUT_ID) for n in g.nodes)
    assert space.cost(spec) <= budget * (1 + 1e-9)
    assert len(spec.nodes) <= max_nodes
    for node in spec.nodes:  # judging roles always have something to judge
        if node.role in ("verifier", "fuser"):
            assert spec.predecessors(node.id)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), budget=st.sampled_from((8.0, 18.0, 42.0)))
def test_repair_drops_the_smallest_models_first(pool, data, budget):
    space = _space(pool, budget, 9)
    w = space.worker_slots
    models = tuple(data.draw(st.lists(st.integers(0, len(space.models) - 1), min_size=w, max_size=w)))
    solver = space.worker_roles.index("solver")
    c = Choices(present=(True,) * w, models=models, roles=(solver,) * w,
                edges=(False,) * len(edge_pairs(w)), out_model=0, out_role=0)
    repaired, spec = realise(space, c)
    assert space.fits(spec)
    dropped = [i for i in range(w) if not repaired.present[i]]
    kept = [i for i in range(w) if repaired.present[i]]
    if dropped and kept:
        size = lambda i: space.size(space.models[models[i]])  # noqa: E731
        assert max(size(i) for i in dropped) <= min(size(i) for i in kept)
    assert len(repaired.notes) >= len(dropped)


def test_output_model_shrinks_when_it_alone_is_over_budget(pool):
    space = _space(pool, 8.0, 3)
    big = space.models.index("sim/llama-3.1-8b")
    c = Choices(present=(True, True), models=(big, big), roles=(0, 0), edges=(False,) * 3, out_model=big, out_role=0)
    repaired, spec = realise(space, c)
    assert space.fits(spec) and len(spec.nodes) >= 1
    assert spec.node(OUTPUT_ID).model in space.models


def test_serialisation_round_trip_is_exact(pool):
    space = _space(pool, 42.0, 6)
    pg = ProbabilisticGraph(space)
    rng = np.random.default_rng(3)
    pg.logits = Logits(*(rng.normal(0, 1, a.shape) for a in pg.logits.arrays()))
    again = ProbabilisticGraph.from_json(space, json.loads(json.dumps(pg.to_json())))
    for a, b in zip(pg.logits.arrays(), again.logits.arrays()):
        assert np.array_equal(a, b)
    r1, r2 = np.random.default_rng(9), np.random.default_rng(9)
    assert [graph_hash(pg.sample(r1)) for _ in range(5)] == [graph_hash(again.sample(r2)) for _ in range(5)]


def test_table_is_human_readable(pool):
    pg = ProbabilisticGraph(_space(pool, 18.0, 4))
    text = pg.table()
    assert "P(present)" in text and "n0" in text and OUTPUT_ID in text and "llama-3.2-3b=" in text
    assert "n0->out=" in text


def test_score_function_matches_finite_differences(pool):
    space = _space(pool, None, 4)
    pg = ProbabilisticGraph(space)
    rng = np.random.default_rng(1)
    pg.logits = Logits(*(rng.normal(0, 1, a.shape) for a in pg.logits.arrays()))
    c = pg.draw(rng)
    grad = pg.score_function(c)
    eps = 1e-6
    for k, arr in enumerate(pg.logits.arrays()):
        flat = arr.reshape(-1)
        for j in range(min(3, flat.size)):
            flat[j] += eps
            up = pg.log_prob(c)
            flat[j] -= 2 * eps
            down = pg.log_prob(c)
            flat[j] += eps
            assert grad.arrays()[k].reshape(-1)[j] == pytest.approx((up - down) / (2 * eps), abs=1e-5)


def test_from_graph_maps_a_graph_into_slots(pool):
    space = _space(pool, 42.0, 5)
    pg = ProbabilisticGraph(space)
    c, spec = pg.sample_choices(np.random.default_rng(5))
    back = from_graph(space, spec)
    assert back is not None
    same = nx.algorithms.isomorphism.categorical_node_match(["role", "model"], [None, None])
    assert nx.is_isomorphic(to_networkx(realise(space, back)[1]), to_networkx(spec), node_match=same)

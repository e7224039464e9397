"""The pilot's graphs: each model alone, each model's ensemble, and the mixed ensemble of the two best."""
import pytest

from rolegraph.graphs.spec import NodeSpec
from rolegraph.optimize.agent_reinforce import mixed_ensemble, pilot_graphs
from rolegraph.optimize.space import SearchSpace

ONE_B, THREE_B, EIGHT_B = "sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b"
RANKED = [EIGHT_B, THREE_B, ONE_B]


def space(pool, budget: float, max_nodes: int = 6) -> SearchSpace:
    return SearchSpace(pool=pool, models=(ONE_B, THREE_B, EIGHT_B), roles=("solver", "fuser"), max_nodes=max_nodes,
                       budget=budget)


def shape(spec):
    return sorted(n.model for n in spec.nodes[:-1]), spec.nodes[-1].model


def test_at_a_tight_budget_the_mixed_ensemble_fuses_the_two_best_with_the_best_fuser_that_fits(pool):
    sp = space(pool, 18.0)
    spec = mixed_ensemble(sp, RANKED)
    assert spec is not None and sp.fits(spec)
    assert shape(spec) == (sorted([EIGHT_B, THREE_B]), THREE_B)  # an 8B fuser of the pair costs more than 18
    assert all(n.role == "solver" for n in spec.nodes[:-1]) and spec.nodes[-1].role == "fuser"
    assert sorted(spec.edges) == sorted((n.id, spec.output) for n in spec.nodes[:-1])
    assert shape(spec) not in [shape(g) for _, g in pilot_graphs(sp)]  # nothing in the first stage resembles it


def test_with_room_it_widens_with_the_best_model_until_the_budget_stops_it(pool):
    sp = space(pool, 42.0)
    spec = mixed_ensemble(sp, RANKED)
    assert spec is not None and sp.fits(spec)
    solvers, fuser = shape(spec)
    assert fuser == EIGHT_B and THREE_B in solvers and solvers.count(EIGHT_B) >= 2
    wider = spec.model_copy(deep=True)
    wider.nodes.insert(-1, NodeSpec(id="extra", role="solver", model=EIGHT_B))
    wider.edges.append(("extra", wider.output))
    assert not sp.fits(wider)  # one more 8B solver would not fit


def test_the_ranking_decides_the_models(pool):
    spec = mixed_ensemble(space(pool, 18.0), [ONE_B, THREE_B, EIGHT_B])
    assert spec is not None and set(shape(spec)[0]) == {ONE_B, THREE_B} and shape(spec)[1] == ONE_B


@pytest.mark.parametrize("ranked, budget, max_nodes", [([EIGHT_B], 42.0, 6), (RANKED, 1.0, 6), (RANKED, 42.0, 2)],
                         ids=["one-model", "nothing-fits", "no-room-for-two-solvers"])
def test_none_when_there_is_no_mixed_ensemble(pool, ranked, budget, max_nodes):
    assert mixed_ensemble(space(pool, budget, max_nodes), ranked) is None

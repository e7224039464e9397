"""The surrogate's belief: it follows the scores where graphs were scored, carries them to similar graphs,
falls back to the mean (with the prior's spread) far from any evidence, and assumes no order of models."""
import numpy as np

from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.surrogate import SIGNAL_SD, GraphSurrogate, features

ONE_B, THREE_B, EIGHT_B = "sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b"


def space(pool) -> SearchSpace:
    return SearchSpace(pool=pool, models=(ONE_B, THREE_B, EIGHT_B), roles=("solver", "fuser"), max_nodes=6,
                       budget=42.0, worker_edges=False)


def fan_in(workers: list[str], out: str, role: str = "fuser") -> GraphSpec:
    nodes = [NodeSpec(id=f"n{i}", role="solver", model=m) for i, m in enumerate(workers)]
    nodes.append(NodeSpec(id="out", role=role if workers else "solver", model=out))
    return GraphSpec(name="g", nodes=nodes, edges=[(f"n{i}", "out") for i in range(len(workers))], output="out")


def test_features_are_the_same_for_the_same_composition_in_other_slots(pool):
    sp = space(pool)
    a = fan_in([ONE_B, EIGHT_B], THREE_B)
    b = fan_in([EIGHT_B, ONE_B], THREE_B)
    assert np.array_equal(features(sp, a), features(sp, b))
    assert not np.array_equal(features(sp, a), features(sp, fan_in([ONE_B, ONE_B], THREE_B)))


def test_the_belief_follows_well_measured_scores_and_keeps_their_order(pool):
    sp = space(pool)
    graphs = [fan_in([THREE_B] * 3, THREE_B), fan_in([ONE_B] * 3, ONE_B), fan_in([], EIGHT_B)]
    values = [0.70, 0.40, 0.55]
    gp = GraphSurrogate(sp).fit(graphs, values, [400, 400, 400])
    mu, sd = gp.predict(graphs)
    assert np.all(np.abs(mu - values) < 0.03)
    assert list(np.argsort(-mu)) == [0, 2, 1]
    assert np.all(sd < 0.5 * SIGNAL_SD)


def test_a_similar_graph_inherits_the_score_and_an_unrelated_one_stays_uncertain(pool):
    sp = space(pool)
    good, bad = fan_in([THREE_B] * 3, THREE_B), fan_in([ONE_B] * 3, ONE_B)
    gp = GraphSurrogate(sp).fit([good, bad], [0.75, 0.35], [200, 200])
    near_good = fan_in([THREE_B] * 4, THREE_B)  # one worker more
    near_bad = fan_in([ONE_B] * 4, ONE_B)
    far = fan_in([EIGHT_B], EIGHT_B, role="solver")  # another output model and role, other workers
    mu, sd = gp.predict([near_good, near_bad, far])
    assert mu[0] > mu[1] + 0.2
    assert sd[2] > sd[0] and sd[2] > sd[1]
    assert abs(mu[2] - gp.mean) < abs(mu[0] - gp.mean)


def test_noisy_scores_count_less_than_well_measured_ones(pool):
    sp = space(pool)
    g = fan_in([THREE_B] * 2, THREE_B)
    other = fan_in([ONE_B], ONE_B)
    few = GraphSurrogate(sp).fit([g, other], [0.9, 0.5], [4, 400]).predict([g])[0][0]
    many = GraphSurrogate(sp).fit([g, other], [0.9, 0.5], [400, 400]).predict([g])[0][0]
    assert few < many  # 4 items at 0.9 are pulled toward the mean; 400 are believed


def test_no_evidence_gives_the_prior(pool):
    sp = space(pool)
    mu, sd = GraphSurrogate(sp).fit([], [], []).predict([fan_in([ONE_B], EIGHT_B)])
    assert mu[0] == 0.0 and abs(sd[0] - SIGNAL_SD) < 1e-12

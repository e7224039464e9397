"""What a search offers routing besides its front: the chosen graph's cheaper outputs (the same inputs read by
a smaller model) and, from them, one plurality stage per distinct set of voters."""
from __future__ import annotations

from rolegraph.graphs.analysis import MATH_PROFILE
from rolegraph.graphs.builder import Graph
from rolegraph.graphs.router import RouterSpec, Stage
from rolegraph.optimize.cascade import Outcomes, plurality_sets, voters_key
from rolegraph.optimize.paired import candidates, cheaper_outputs

BIG, MID, SMALL = "sim/llama-3.1-8b", "sim/llama-3.2-3b", "sim/llama-3.2-1b"
SIZES = {BIG: 8.0, MID: 3.0, SMALL: 1.0, "sim/llama-3.1-70b": 70.0}


def _vote(fuser: str = BIG):
    return (Graph("v3").node("a", "solver", BIG).node("b", "solver", MID).node("c", "solver", SMALL)
            .node("f", "fuser", fuser, temperature=0.2).edge("a", "f").edge("b", "f").edge("c", "f").build())


def test_cheaper_outputs_swap_only_the_output_model_largest_smaller_first():
    vote = _vote()
    outs = cheaper_outputs(vote, SIZES)
    assert [o.name for o in outs] == ["v3-out-llama-3.2-3b", "v3-out-llama-3.2-1b"]
    for out, model in zip(outs, (MID, SMALL)):
        assert out.node("f").model == model and out.node("f").params == vote.node("f").params
        assert [n for n in out.nodes if n.id != "f"] == [n for n in vote.nodes if n.id != "f"]
        assert out.edges == vote.edges and out.output == vote.output
    assert [o.node("f").model for o in cheaper_outputs(vote, SIZES, limit=1)] == [MID]
    assert cheaper_outputs(_vote(SMALL), SIZES) == []  # nothing smaller
    assert cheaper_outputs(vote, {SMALL: 1.0}) == []  # the output's model is not offered for the output
    single = Graph("s").node("o", "solver", BIG).build()
    assert cheaper_outputs(single, SIZES) == []  # an output that reads nothing has nothing to aggregate


def test_candidates_offer_cheaper_outputs_as_derived_and_each_graph_once():
    vote = _vote()
    cheap = cheaper_outputs(vote, SIZES)[0]
    cands = candidates(vote, [cheap], [], output_sizes=SIZES)
    assert [(c.source, c.graph.name) for c in cands] == [
        ("best", "v3"), ("derived", "v3-out-llama-3.2-3b"), ("derived", "v3-out-llama-3.2-1b")]
    assert [c.source for c in candidates(vote, [cheap], [])] == ["best", "front"]  # no sizes, nothing derived
    assert [c.source for c in candidates(vote, [cheap], [], derived=False, output_sizes=SIZES)] == ["best", "front"]


def test_a_router_escalating_from_a_cheaper_output_reruns_only_the_output():
    vote = _vote()
    cheap = cheaper_outputs(vote, SIZES)[-1]
    router = RouterSpec(stages=[Stage(graph=cheap), Stage(graph=vote)])
    assert router.reuse() == [{}, {"a": "s1.a", "b": "s1.b", "c": "s1.c"}]


def test_graphs_that_differ_only_in_their_output_share_one_plurality_stage(pool):
    from rolegraph.evaluate.result import EvalResult, ItemScore

    vote, other = _vote(), (Graph("w").node("a", "solver", BIG).node("b", "solver", BIG).node("f", "fuser", BIG)
                            .edge("a", "f").edge("b", "f").build())
    graphs = [vote, *cheaper_outputs(vote, SIZES), other]
    assert len({voters_key(g) for g in graphs}) == 2

    def outcomes(g):
        voters = [n.id for n in g.nodes if n.id != g.output]
        items = [ItemScore(item_id=f"q{i}", score=1.0, answer="1", node_answers={v: "1" for v in voters},
                           node_scores={v: 1.0 for v in voters}) for i in range(3)]
        return Outcomes(g.name, "front", g, EvalResult(task="t", items=items, n=3, flops_units=1.0))

    fit, test = [outcomes(g) for g in graphs], [outcomes(g) for g in graphs]
    sets = plurality_sets((fit, test), pool, MATH_PROFILE)
    assert [(f.name, t.name) for f, t in sets] == [("v3-plurality", "v3-plurality"), ("w-plurality", "w-plurality")]


def test_sizes_compare_models_on_one_scale():
    from rolegraph.chat.spec import ModelSpec
    from rolegraph.optimize.paired import comparable_sizes

    sim8 = ModelSpec(id=BIG, backend="sim", params_b=8.0, price_in=0.2, price_out=0.2)
    sim1 = ModelSpec(id=SMALL, backend="sim", params_b=1.0, price_in=0.05, price_out=0.05)
    api = ModelSpec(id="openai/gpt-4o", backend="openai", price_in=2.5, price_out=10.0)
    mini = ModelSpec(id="openai/gpt-4o-mini", backend="openai", price_in=0.15, price_out=0.6)
    free = ModelSpec(id="local/x", backend="openai")
    # parameters where any model declares them; a hosted model without them is not compared at all
    assert comparable_sizes([sim8, sim1, api]) == {BIG: 8.0, SMALL: 1.0}
    assert comparable_sizes([api, mini, free]) == {"openai/gpt-4o": 12.5, "openai/gpt-4o-mini": 0.75}
    vote = _vote().model_copy(update={"nodes": [*_vote().nodes[:3], _vote().node("f").model_copy(
        update={"model": "openai/gpt-4o"})]})
    assert [o.node("f").model for o in cheaper_outputs(vote, comparable_sizes([api, mini, free]))] == [
        "openai/gpt-4o-mini"]
    assert cheaper_outputs(vote, comparable_sizes([sim8, sim1, api])) == []  # gpt-4o has no size there

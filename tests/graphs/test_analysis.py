"""Shape (depth, width, in-degree, critical path) and cost (FLOPs units, tokens, dollars) of graphs."""
from __future__ import annotations

from pathlib import Path

import pytest

from rolegraph.errors import GraphError, RolegraphError
from rolegraph.graphs import analysis
from rolegraph.graphs.analysis import (TOKEN_PROFILES, TokenProfile, critical_path, depth, estimate_cost, flops_units,
                                       in_degrees, levels, node_flops, summary, width)
from rolegraph.graphs.builder import Graph
from rolegraph.graphs.io import load_graph
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.pool import ModelPool
from rolegraph.chat.spec import ModelSpec

EXAMPLES = Path(__file__).parents[2] / "examples" / "graphs"
M1, M3, M8 = "sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b"


@pytest.fixture(scope="module")
def pool() -> ModelPool:
    return ModelPool.builtin()


def chain(n: int, model: str = M1):
    g = Graph(f"chain{n}")
    for i in range(n):
        g.node(f"n{i}", "solver", model)
    return g.chain(*[f"n{i}" for i in range(n)]).build()


def diamond():
    """a -> (b, c) -> d, plus a long arm a -> e -> f -> d."""
    return (Graph("diamond").node("a", "planner", M1).node("b", "solver", M1).node("c", "solver", M3)
            .node("e", "solver", M1).node("f", "verifier", M1).node("d", "fuser", M8)
            .fan_out("a", ["b", "c", "e"]).fan_in(["b", "c"], "d").chain("e", "f", "d").build())


def test_depth_width_levels_on_known_graphs():
    assert (depth(chain(4)), width(chain(4))) == (4, 1)
    assert levels(diamond()) == {"a": 1, "b": 2, "c": 2, "e": 2, "f": 3, "d": 4}
    assert (depth(diamond()), width(diamond())) == (4, 3)
    vote5 = load_graph(EXAMPLES / "vote5.yaml")
    assert (depth(vote5), width(vote5)) == (2, 5)
    mind = load_graph(EXAMPLES.parents[1] / "tests" / "graphs" / "fixtures" / "valid_mindsearch_static.yaml")
    assert (depth(mind), width(mind)) == (4, 3)


def test_in_degrees():
    assert in_degrees(diamond()) == {"a": 0, "b": 1, "c": 1, "e": 1, "f": 1, "d": 3}


def test_critical_path_follows_the_slow_branch():
    latency = {"a": 1.0, "b": 5.0, "c": 0.5, "e": 1.0, "f": 1.0, "d": 2.0}
    assert critical_path(diamond(), latency) == (8.0, ["a", "b", "d"])
    latency["f"] = 4.5  # the long arm e -> f now takes 5.5 s > b's 5.0 s
    total, path = critical_path(diamond(), latency)
    assert path == ["a", "e", "f", "d"] and total == pytest.approx(1.0 + 1.0 + 4.5 + 2.0)


def test_critical_path_of_independent_chains_is_the_slowest_chain():
    """Two chains 70B(1.0 s) -> 1B(0.1 s) and 1B(0.1 s) -> 70B(1.0 s), as in DESIGN.md: 1.1 s, not 2.0 s."""
    g = (Graph("two").node("a1", "solver", M1).node("a2", "solver", M1).node("b1", "solver", M1)
         .node("b2", "solver", M1).node("f", "fuser", M1).chain("a1", "a2", "f").chain("b1", "b2", "f").build())
    total, path = critical_path(g, {"a1": 1.0, "a2": 0.1, "b1": 0.1, "b2": 1.0, "f": 0.0})
    assert total == pytest.approx(1.1) and path in (["a1", "a2", "f"], ["b1", "b2", "f"])


def test_critical_path_counts_absent_nodes_as_zero_and_empty():
    assert critical_path(chain(3), {"n1": 2.0}) == (2.0, ["n0", "n1", "n2"])
    assert critical_path(GraphSpec(nodes=[]), {}) == (0.0, [])


def test_analysis_refuses_cycles():
    spec = chain(3).model_copy(update={"edges": [("n0", "n1"), ("n1", "n2"), ("n2", "n0")]})
    with pytest.raises(GraphError, match="cycle"):
        depth(spec)


def test_node_flops_by_hand():
    tiny = ModelSpec(id="t", backend="sim", params_b=1.0, layers=2, hidden=4)
    n_p, n_d = 3, 2
    m, l_d = 1e9, 2 * 4
    prefill = 2 * m * n_p + 2 * l_d * n_p * (n_p + 1)      # 6e9 + 192
    decode = 2 * m * n_d + 2 * l_d * n_d * (2 * n_p + n_d + 1)  # 4e9 + 288
    assert node_flops(tiny, n_p, n_d) == prefill + decode == 1e10 + 480


def test_unit_is_one_1b_node_at_every_profile(pool):
    spec_1b = pool.get(analysis.REFERENCE_MODEL_ID)
    assert (spec_1b.params_b, spec_1b.layers, spec_1b.hidden) == (
        analysis.REFERENCE_PARAMS_B, analysis.REFERENCE_LAYERS, analysis.REFERENCE_HIDDEN)
    for profile in TOKEN_PROFILES.values():
        assert flops_units(chain(1), pool, profile) == pytest.approx(1.0, rel=1e-12)


def test_prompt_grows_with_in_degree(pool):
    profile = TokenProfile(prompt_tokens=100, output_tokens=50)
    g = (Graph().node("a", "solver", M1).node("b", "solver", M3).node("f", "fuser", M8)
         .fan_in(["a", "b"], "f").build())
    unit = node_flops(pool.get(M1), 100, 50)
    expected = (node_flops(pool.get(M1), 100, 50) + node_flops(pool.get(M3), 100, 50)
                + node_flops(pool.get(M8), 100 + 2 * 50, 50)) / unit
    assert flops_units(g, pool, profile) == pytest.approx(expected, rel=1e-12)
    # the same models without edges cost strictly less
    loose = g.model_copy(update={"edges": [], "output": "f"})
    assert flops_units(loose, pool, profile) < flops_units(g, pool, profile)


def test_bigger_models_cost_more_units(pool):
    profile = TOKEN_PROFILES["math"]
    units = [flops_units(chain(1, m), pool, profile) for m in (M1, M3, M8, "sim/llama-3.1-70b")]
    assert units == sorted(units) and units[0] == pytest.approx(1.0)


def test_model_without_sizes_is_a_clear_user_error(pool):
    g = Graph().node("a", "solver", "openai/gpt-4o-mini").build(pool)
    with pytest.raises(RolegraphError, match="openai/gpt-4o-mini.*FLOPs budgets need"):
        flops_units(g, pool, TOKEN_PROFILES["qa"])
    info = summary(g, pool, TOKEN_PROFILES["qa"])
    assert info.flops_units is None and "n/a" in info.line()


def test_token_profiles_are_read_only():
    with pytest.raises(TypeError):
        TOKEN_PROFILES["math"] = TokenProfile(1, 1)  # type: ignore[index]
    with pytest.raises(ValueError):
        TokenProfile(0, 10)
    assert set(TOKEN_PROFILES) == {"math", "mmlu", "code", "qa"}


def test_estimate_cost_by_hand(pool):
    profile = TokenProfile(prompt_tokens=1000, output_tokens=200)
    g = Graph().node("a", "solver", M1).node("f", "fuser", M8).edge("a", "f").build(pool)
    cost = estimate_cost(g, pool, profile)
    assert cost["tokens_in"] == 1000 + (1000 + 200) and cost["tokens_out"] == 400
    assert cost["tokens"] == cost["tokens_in"] + cost["tokens_out"]
    expected = pool.get(M1).cost(1000, 200) + pool.get(M8).cost(1200, 200)
    assert cost["cost_usd"] == pytest.approx(expected)


def test_summary_of_an_example(pool):
    spec = load_graph(EXAMPLES / "vote5.yaml")
    info = summary(spec, pool, TOKEN_PROFILES["math"])
    assert (info.nodes, info.edges, info.depth, info.width, info.max_in_degree) == (6, 5, 2, 5, 5)
    assert info.simulated
    assert info.flops_units == pytest.approx(flops_units(spec, pool, TOKEN_PROFILES["math"]))
    assert f"{info.flops_units:.2f} FLOPs units" in info.line() and "simulated" in info.line()

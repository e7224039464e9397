"""A real node that reads a simulated node's output (derived from the gold) is refused a run with an answer key
(`rolegraph.graphs.gold_guard`): which node pairs leak (edges, loop back edges, fan-out), the one line naming
them, routers stage by stage, and the search-start refusal of simulated and real models together. The runtime
half runs against `CaptureServer`, a loopback OpenAI-compatible server that records what it is sent."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.errors import GraphError, SearchError
from rolegraph.graphs.gold_guard import gold_leak_problem, gold_leaks, refuse_gold_leak, refuse_mixed_search
from rolegraph.graphs.router import RouterSpec, Stage, StopRule
from rolegraph.graphs.runtime import CompiledGraph
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from tests.reliability.capture import CaptureServer

SIM = "sim/llama-3.2-3b"
REAL = "capture/real"


def sim_named(model_id: str) -> bool:
    """The tests' own rule, not the pool's: a model is simulated when its id says so."""
    return model_id.startswith("sim/")


def graph(nodes: dict[str, tuple[str, str]], edges: list[tuple[str, str]], **extra) -> GraphSpec:
    """A spec from {id: (role, model)}; built unvalidated where only its structure matters."""
    return GraphSpec(
        name="g",
        nodes=[{"id": n, "role": role, "model": model} for n, (role, model) in nodes.items()],
        edges=edges,
        **extra,
    )


def test_a_real_node_reading_a_sim_node_leaks_and_the_reverse_does_not():
    sim_to_real = graph({"s": ("solver", SIM), "f": ("fuser", REAL)}, [("s", "f")])
    real_to_sim = graph({"s": ("solver", REAL), "f": ("fuser", SIM)}, [("s", "f")])
    assert gold_leaks(sim_to_real, sim_named) == [("s", "f")]
    assert gold_leaks(real_to_sim, sim_named) == []


def test_the_leak_is_followed_through_real_nodes_in_between():
    spec = graph(
        {"p": ("planner", SIM), "s": ("solver", REAL), "f": ("fuser", REAL)}, [("p", "s"), ("s", "f")]
    )
    assert gold_leaks(spec, sim_named) == [("p", "s"), ("p", "f")]


def test_the_nearest_sim_ancestor_is_named():
    spec = graph(
        {"far": ("solver", SIM), "near": ("verifier", SIM), "f": ("fuser", REAL)},
        [("far", "near"), ("near", "f"), ("far", "f")],
    )
    assert gold_leaks(spec, sim_named) == [("near", "f")]


def test_a_loop_back_edge_carries_a_sim_output_to_the_real_node_it_returns_to():
    nodes = {"draft": ("solver", REAL), "check": ("verifier", SIM)}
    plain = graph(nodes, [("draft", "check")])
    looped = graph(nodes, [("draft", "check")], loops=[{"from": "check", "to": "draft", "max_rounds": 2}])
    assert gold_leaks(plain, sim_named) == []
    assert gold_leaks(looped, sim_named) == [("check", "draft")]


def test_a_fanout_source_feeds_its_copies_even_without_an_edge():
    nodes = {"plan": ("planner", SIM), "s": ("solver", REAL)}
    fanned = graph(nodes, [], fanout=[{"from": "plan", "nodes": ["s"], "max_fanout": 3}])
    assert gold_leaks(fanned, sim_named) == [("plan", "s")]


def test_the_problem_line_names_both_nodes_their_models_and_why():
    spec = graph({"s1": ("solver", SIM), "fuse": ("fuser", REAL)}, [("s1", "fuse")])
    line = gold_leak_problem(spec, sim_named)
    assert line is not None and "\n" not in line
    for part in ("'fuse'", REAL, "'s1'", SIM, "gold", "free question"):
        assert part in line
    assert gold_leak_problem(graph({"s": ("solver", SIM)}, []), sim_named) is None


@pytest.fixture
def mixed_pool() -> ModelPool:
    real = ModelSpec(id=REAL, backend="openai", base_url="http://127.0.0.1:9/v1", model="plain", params_b=1.0)
    return ModelPool([*ModelPool.builtin(), real])


def test_a_router_is_checked_stage_by_stage(mixed_pool):
    safe = graph({"s": ("solver", REAL)}, [])
    leaky = graph({"s": ("solver", SIM), "f": ("fuser", REAL)}, [("s", "f")])
    router = RouterSpec(
        name="r", stages=[Stage(graph=safe, stop=StopRule(min_agreement=1.0)), Stage(graph=leaky)]
    )
    with pytest.raises(GraphError) as caught:
        refuse_gold_leak(router, mixed_pool)
    assert str(caught.value).startswith("router 'r': stage 2: real node 'f'")
    refuse_gold_leak(RouterSpec(name="ok", stages=[Stage(graph=safe)]), mixed_pool)  # nothing to refuse


def test_a_search_over_sim_and_real_models_together_is_refused(mixed_pool):
    with pytest.raises(SearchError) as caught:
        refuse_mixed_search(mixed_pool, [REAL, "sim/llama-3.2-1b"])
    assert "sim/llama-3.2-1b" in str(caught.value) and REAL in str(caught.value)
    assert "\n" not in str(caught.value)
    refuse_mixed_search(mixed_pool, ["sim/llama-3.2-1b", SIM])
    refuse_mixed_search(mixed_pool, [REAL])


def _item() -> tuple[Item, str]:
    gold = f"{secrets.randbelow(10**9) + 10**9}"  # a number found nowhere else
    return Item(id="i", question="What is 6 * 7?", gold=gold, family="math"), gold


def _hub(base_url: str, home) -> ModelHub:
    real = ModelSpec(id=REAL, backend="openai", base_url=base_url, model="plain", params_b=1.0)
    return ModelHub(ModelPool([*ModelPool.builtin(), real]), Settings(home=home, cache=False))


def test_a_sim_to_real_graph_is_refused_an_item_before_any_call_but_not_a_free_question(tmp_path):
    spec = graph({"s1": ("solver", SIM), "fuse": ("fuser", REAL)}, [("s1", "fuse")])
    item, _ = _item()
    with CaptureServer() as server:
        hub = _hub(server.base_url, tmp_path / "h")
        compiled = CompiledGraph(spec, hub)
        with pytest.raises(GraphError, match="real node 'fuse'"):
            asyncio.run(compiled.run(item))
        _, ctx, _ = compiled.inputs_and_context("What is 6 * 7?")  # no key: nothing to refuse
        assert ctx.answer_key is None
        assert server.bodies == []
    assert hub.stats.calls == 0


def test_a_real_to_sim_graph_runs_with_the_gold_and_the_real_model_never_sees_it(tmp_path):
    spec = graph({"s1": ("solver", REAL), "check": ("fuser", SIM)}, [("s1", "check")])
    item, gold = _item()
    with CaptureServer() as server:
        hub = _hub(server.base_url, tmp_path / "h")
        result = asyncio.run(CompiledGraph(spec, hub).run(item))
        seen = server.seen()
    assert result.error is None and result.answer is not None
    assert len(server.bodies) == 1
    assert gold.encode() not in seen

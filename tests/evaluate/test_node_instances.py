"""Per-node credit for loop rounds (`a@2`) and fan-out copies (`search[1]`): counted under their graph node."""
from __future__ import annotations

from pathlib import Path

import pytest

from rolegraph.evaluate.aggregate import final_runs, node_stats, spec_node_of
from rolegraph.evaluate.result import ItemScore, NodeUsage
from rolegraph.graphs.io import load_graph
from rolegraph.graphs.spec import GraphSpec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "graphs"

SPEC = GraphSpec.model_validate({
    "name": "loop-and-fanout",
    "nodes": [{"id": "plan", "role": "planner", "model": "sim/llama-3.2-1b"},
              {"id": "search", "role": "solver", "model": "sim/llama-3.2-3b"},
              {"id": "a", "role": "solver", "model": "sim/llama-3.2-3b"},
              {"id": "out", "role": "fuser", "model": "sim/llama-3.1-8b"}],
    "edges": [["plan", "search"], ["search", "a"], ["a", "out"]],
})


def item(i, answer, nodes, cut=None):
    """nodes: trace id -> (answer, score); cut: trace id -> truncated_calls."""
    cut = cut or {}
    return ItemScore(item_id=f"q{i}", score=float(answer == "7"), answer=answer, gold="7",
                     node_answers={k: a for k, (a, _) in nodes.items()},
                     node_scores={k: s for k, (a, s) in nodes.items() if a is not None},
                     node_usage={k: NodeUsage(calls=1, truncated_calls=cut.get(k, 0)) for k in nodes})


ITEMS = [
    # round 1 of `a` was wrong, its last round right: the loop node is judged by its last round
    item(0, "7", {"plan": (None, 0), "search[1]": ("7", 1.0), "search[2]": ("8", 0.0),
                  "a@1": ("8", 0.0), "a@2": ("7", 1.0), "out": ("7", 1.0)}, cut={"a@1": 1}),
    # the last round is the highest round number, not the last trace listed; three copies, two right
    item(1, "7", {"plan": (None, 0), "search[1]": ("7", 1.0), "search[2]": ("7", 1.0), "search[3]": (None, 0),
                  "a@2": ("7", 1.0), "a@1": ("9", 0.0), "out": ("7", 1.0)}),
]


def test_loop_rounds_and_fanout_copies_count_under_their_graph_node():
    stats = node_stats(SPEC, ITEMS)
    assert stats["a"].n == 2 and stats["search"].n == 2
    # last rounds right both times (first rounds: never; every round: half)
    assert stats["a"].correct_rate == pytest.approx(1.0) and stats["a"].agree_rate == pytest.approx(1.0)
    # copies: 1 of 2 right on item 0, 2 of 3 on item 1 (a copy with no answer counts wrong)
    assert stats["search"].correct_rate == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert stats["search"].agree_rate == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert stats["a"].truncated == 1  # a cut reply in any round counts its item
    assert stats["plan"].n == 2 and stats["plan"].correct_rate is None


def test_trace_ids_resolve_to_their_graph_node():
    ids = ["a", "a@1", "search"]  # a node id may itself look like a round
    assert spec_node_of("a@1", ids) == "a@1"
    assert spec_node_of("a@2", ids) == "a"
    assert spec_node_of("search[3]", ids) == "search"
    assert spec_node_of("search[x]", ids) is None and spec_node_of("other@1", ids) is None
    assert final_runs("a", ["a@1", "a@3", "a@2"]) == ["a@3"]
    assert final_runs("s", ["s[2]@1", "s[1]@2", "s[2]@2", "s[1]@1"]) == ["s[1]@2", "s[2]@2"]


def test_debate_on_the_sim_gives_its_looped_solvers_statistics(sim_hub):
    from rolegraph.evaluate.runner import evaluate_sync
    from rolegraph.tasks.registry import get_task

    task = get_task("gsm")
    result = evaluate_sync(load_graph(EXAMPLES / "debate.yaml"), task, task.items("test")[:6], hub=sim_hub)
    assert any("@" in k for it in result.items for k in it.node_answers)  # the loop really ran in rounds
    for node in ("a", "b"):
        st = result.per_node[node]
        assert st.n == 6 and st.correct_rate is not None and st.agree_rate is not None

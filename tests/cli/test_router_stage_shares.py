"""A router's `eval --json` stages: `reached` is the share of items that ran a stage, counted from the items
(it was summed from the answered shares: stage 1 read 0.9999999999999999 for "every item", and 0.0 for a
stage every item ran when the items failed later, since failed items were answered by no stage)."""
from __future__ import annotations

import json
from pathlib import Path

from rolegraph.cli.router_views import stage_keys
from rolegraph.evaluate.result import EvalResult, ItemScore, NodeUsage
from rolegraph.graphs.router_io import load_spec
from tests.cli.support import run_cli

THREE_STAGES = """kind: router
name: three
stages:
  - graph: {name: first, nodes: [{id: a, role: solver, model: sim/llama-3.2-1b}]}
    stop: {min_agreement: 1.0}
  - graph: {name: second, nodes: [{id: a, role: solver, model: sim/llama-3.2-3b}]}
    stop: {min_agreement: 1.0}
  - graph: {name: third, nodes: [{id: a, role: solver, model: sim/llama-3.1-8b}]}
"""
DEAD_POOL = """models:
  - {id: dead/model, backend: openai, base_url: "http://127.0.0.1:9/v1", model: m, max_retries: 0}
"""
"""Nothing listens on port 9 (discard): every call of the model fails at once, without retries."""
SECOND_STAGE_DEAD = """kind: router
name: dies-late
stages:
  - graph: {nodes: [{id: a, role: solver, model: sim/llama-3.2-1b}, {id: b, role: solver, model: sim/llama-3.2-1b},
            {id: f, role: fuser, model: sim/llama-3.2-1b}], edges: [[a, f], [b, f]]}
    stop: {min_agreement: 1.0}
  - graph: {nodes: [{id: a, role: solver, model: dead/model}]}
"""


def _router(tmp_path: Path):
    path = tmp_path / "router.yaml"
    path.write_text(THREE_STAGES)
    return load_spec(path)


def _result(items: list[ItemScore]) -> EvalResult:
    return EvalResult(task="gsm", graph_name="three", n=len(items), items=items,
                      failures=sum(1 for it in items if it.error))


def test_every_item_reaches_stage_one_exactly(tmp_path):
    # 1 of 6 answered at stage 1, 4 at stage 2, 1 at stage 3: the shares summed to 0.9999999999999999
    stages = [1, 2, 2, 2, 2, 3]
    items = [ItemScore(item_id=f"q{i}", score=1.0, stage=s) for i, s in enumerate(stages)]
    keys = stage_keys(_result(items), _router(tmp_path))["stages"]
    assert [s["reached"] for s in keys] == [1.0, 5 / 6, 1 / 6]
    assert [s["answered"] for s in keys] == [1 / 6, 4 / 6, 1 / 6]
    assert [s["graph"] for s in keys] == ["first", "second", "third"]


def test_failed_items_count_for_the_stages_they_ran(tmp_path):
    usage = NodeUsage(tokens_in=10, tokens_out=5)
    items = [
        ItemScore(item_id="q0", score=1.0, stage=1),
        ItemScore(item_id="q1", error="stage 2 failed", node_usage={"s1.a": usage, "s2.a": usage}),
        ItemScore(item_id="q2", error="stage 3 failed", node_usage={"s1.a": usage, "s2.a": usage, "s3.a": usage}),
        ItemScore(item_id="q3", error="failed before any node answered"),  # it still entered stage 1
    ]
    keys = stage_keys(_result(items), _router(tmp_path))["stages"]
    assert [s["reached"] for s in keys] == [1.0, 2 / 4, 1 / 4]
    assert [s["answered"] for s in keys] == [1 / 4, 0.0, 0.0]


def test_eval_json_of_a_router_whose_last_stage_fails(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    (tmp_path / "pool.yaml").write_text(DEAD_POOL)
    (tmp_path / "router.yaml").write_text(SECOND_STAGE_DEAD)
    code, out, err = run_cli(capsys, "eval", tmp_path / "router.yaml", "--task", "gsm", "--n", "8", "--pool",
                             tmp_path / "pool.yaml", "--json", "--no-cache")
    obj = json.loads(out.splitlines()[0])
    n, failures = obj["n"], obj["failures"]
    assert 0 < failures < n, err  # the premise: some items escalated to the dead stage and failed there
    first, second = obj["stages"]
    assert first["reached"] == 1.0  # it read the answered share of stage 1 alone
    assert first["answered"] == (n - failures) / n
    assert second["reached"] == failures / n and second["answered"] == 0.0

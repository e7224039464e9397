"""The runtime on the real sim pool: result shape, dataflow timing, budgets, failures, LangGraph API."""
import asyncio

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from rolegraph.agents.registry import RoleRegistry
from rolegraph.errors import BudgetExceededError, GraphError, NoAnswerKeyError, NodeFailedError
from rolegraph.graphs.budget import Budget
from rolegraph.graphs.nodes import node_sample
from rolegraph.graphs.runtime import GraphRunner, compile_graph, run_graph, run_graph_sync
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.tools.local_search import LocalSearch, SearchTool
from rolegraph.tools.toolbox import ToolBox
from rolegraph.transcript import read_role

ONE_B, THREE_B, EIGHT_B, SEVENTY_B = "sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b", "sim/llama-3.1-70b"


def graph(nodes, edges, **kw) -> GraphSpec:
    return GraphSpec.model_validate({"nodes": [{"id": i, "role": r, "model": m, **({"params": p} if p else {})}
                                               for i, r, m, p in [(*n, None)[:4] for n in nodes]],
                                     "edges": edges, **kw})


def hub(tmp_path, **settings) -> ModelHub:
    return ModelHub(ModelPool.builtin(), Settings(home=tmp_path, cache=False, **settings))


def item(i=0, family="math") -> Item:
    return Item(id=f"t{i}", question=f"What is {i} + 5?", gold=str(i + 5), family=family)


def run(spec, it, h, **kw):
    return asyncio.run(run_graph(spec, it, h, **kw))


FAN = graph([("a", "solver", THREE_B), ("b", "solver", THREE_B), ("c", "solver", ONE_B),
             ("f", "fuser", EIGHT_B, {"temperature": 0.2})], [["a", "f"], ["b", "f"], ["c", "f"]], name="vote3")
CHAIN = graph([("p", "planner", THREE_B), ("s", "solver", EIGHT_B), ("v", "verifier", SEVENTY_B)],
              [["p", "s"], ["s", "v"]])


def test_fan_out_result_shape_and_modelled_timing(tmp_path):
    res = run(FAN, item(1), hub(tmp_path))
    assert [n.id for n in res.nodes] == ["a", "b", "c", "f"]
    assert res.answer == res.node("f").answer is not None and res.output_node == "f"
    assert res.simulated and res.graph_name == "vote3" and res.graph_hash
    assert res.tokens_in == sum(n.tokens_in for n in res.nodes) > 0
    assert res.cost_usd == pytest.approx(sum(n.cost_usd for n in res.nodes)) and res.cost_usd > 0
    assert res.flops_units > 3  # four nodes, two of them bigger than the 1B unit
    for n in res.nodes:
        assert n.calls == 1 and n.latency_s > 0 and n.end_s == pytest.approx(n.start_s + n.latency_s)
    f = res.node("f")
    assert f.start_s == pytest.approx(max(res.node(x).end_s for x in "abc"))
    assert res.latency_s == pytest.approx(res.critical_path_s) == pytest.approx(f.end_s)
    assert res.node("f").tokens_in > res.node("a").tokens_in  # the fuser reads three candidates


def test_chain_roles_and_answers(tmp_path):
    res = run(CHAIN, item(2), hub(tmp_path))
    assert [n.role for n in res.nodes] == ["planner", "solver", "verifier"]
    assert res.node("p").answer is None and "Plan:" in res.node("p").output
    assert res.node("v").start_s == pytest.approx(res.node("s").end_s)
    assert res.critical_path_s == pytest.approx(sum(n.latency_s for n in res.nodes))
    assert "Verdict for s:" in res.node("v").output and res.answer == res.node("v").answer


def test_same_seed_same_result_and_parallel_twins_draw_differently(tmp_path):
    h = hub(tmp_path)
    runner = GraphRunner(h)
    first = [asyncio.run(runner.run(FAN, item(i), seed=3)) for i in range(12)]
    again = [asyncio.run(runner.run(FAN, item(i), seed=3)) for i in range(12)]
    assert [r.model_dump() for r in first] == [r.model_dump() for r in again]
    assert node_sample("a") != node_sample("b")
    assert any(r.node("a").answer != r.node("b").answer for r in first)  # same model, same input, own draws


def test_runner_compiles_each_distinct_spec_once(tmp_path):
    runner = GraphRunner(hub(tmp_path))
    assert runner.compiled(FAN) is runner.compiled(FAN.model_copy(deep=True))
    assert runner.compiled(CHAIN) is not runner.compiled(FAN)


def test_free_form_question_on_sim_raises_no_answer_key(tmp_path):
    with pytest.raises(NoAnswerKeyError):
        run_graph_sync(FAN, "Who wrote Hamlet?", hub(tmp_path))


def test_user_registered_role_runs_in_a_graph(tmp_path):
    roles = RoleRegistry.default()
    roles.register("critic", "Point out the weakest step of each candidate.\n{answer_format}",
                   parser=lambda text, kind: {"answer": text.rsplit("Final answer:", 1)[-1].strip(), "seen": kind})
    spec = graph([("a", "solver", THREE_B), ("k", "critic", EIGHT_B)], [["a", "k"]])
    seen = []
    h = hub(tmp_path)
    real = h.get(EIGHT_B)

    class Spy:
        model_id = EIGHT_B

        async def complete(self, messages, **kw):
            seen.append(messages[0]["content"])
            return await real.complete(messages, **kw)

    h.use(EIGHT_B, Spy())  # observe the critic's prompt on its way to the real sim model
    res = run(spec, item(3), h, roles=roles)
    assert res.node("k").role == "critic" and res.answer == res.node("k").answer is not None
    assert read_role(seen[0]) == "critic" and "Final answer" in seen[0]
    with pytest.raises(GraphError, match="unknown role 'critic'"):
        run(spec, item(3), hub(tmp_path))  # the default registry does not know it


def test_searcher_graph_uses_the_toolbox(tmp_path):
    docs = [{"title": "Penicillin", "url": "https://en.wikipedia.org/wiki/Penicillin",
             "text": "Penicillin was discovered in 1928 by Alexander Fleming."}]
    box = ToolBox([SearchTool(LocalSearch.from_documents(docs))])
    spec = graph([("p", "planner", THREE_B), ("s", "searcher", THREE_B), ("a", "solver", EIGHT_B)],
                 [["p", "s"], ["s", "a"]])
    qa = Item(id="pen", question="Who discovered penicillin?", gold="Alexander Fleming", family="qa")
    res = run(spec, qa, hub(tmp_path), toolbox=box)
    s = res.node("s")
    assert s.answer is None and s.output.startswith("Evidence:\n[1] Penicillin")
    assert s.tools and all(e.tool == "search" and e.ok for e in s.tools)
    bad = graph([("a", "solver", ONE_B, {"tools": ["calculater"]})], [])
    with pytest.raises(GraphError, match="unknown tool 'calculater'"):
        run(bad, qa, hub(tmp_path), toolbox=box)


def test_token_budget_stops_before_the_call_and_keeps_the_partial_trace(tmp_path):
    full = run(CHAIN, item(4), hub(tmp_path))
    cap = full.node("p").tokens_in + full.node("p").tokens_out + 300  # room for the planner only
    with pytest.raises(BudgetExceededError, match="before node 's'") as info:
        run(CHAIN, item(4), hub(tmp_path), budget=Budget(max_tokens=cap))
    partial = info.value.partial
    assert [n.id for n in partial.nodes] == ["p", "s"] and partial.error and partial.answer is None
    assert partial.node("s").calls == 0 and "budget" in partial.node("s").error  # stopped before its call
    assert partial.node("p").output == full.node("p").output and partial.tokens <= cap


def test_dollar_and_time_budgets(tmp_path):
    with pytest.raises(BudgetExceededError, match="dollar budget"):
        run(CHAIN, item(5), hub(tmp_path), budget=Budget(max_usd=1e-6))
    full = run(CHAIN, item(5), hub(tmp_path))
    with pytest.raises(BudgetExceededError, match="time budget exceeded before node 'v'") as info:
        run(CHAIN, item(5), hub(tmp_path), budget=Budget(max_seconds=full.node("v").start_s * 0.99))
    assert [(n.id, n.calls) for n in info.value.partial.nodes] == [("p", 1), ("s", 1), ("v", 0)]


def test_parallel_nodes_cannot_jointly_overshoot_a_token_cap(tmp_path):
    wide = graph([(f"s{i}", "solver", ONE_B) for i in range(6)] + [("f", "fuser", THREE_B)],
                 [[f"s{i}", "f"] for i in range(6)])
    with pytest.raises(BudgetExceededError) as info:
        run(wide, item(6), hub(tmp_path), budget=Budget(max_tokens=3000))
    assert info.value.partial.tokens <= 3000


def test_node_failure_names_the_node_and_keeps_the_others(tmp_path):
    h = hub(tmp_path)

    class Broken:
        model_id = SEVENTY_B

        async def complete(self, messages, **kw):
            raise ConnectionError("upstream closed the connection")

    h.use(SEVENTY_B, Broken())
    with pytest.raises(NodeFailedError, match="node 'v' .verifier on sim/llama-3.1-70b. failed: ConnectionError") \
            as info:
        run(CHAIN, item(7), h)
    assert info.value.node_id == "v"
    partial = info.value.partial
    assert [n.id for n in partial.nodes] == ["p", "s", "v"] and partial.node("v").error
    assert partial.node("s").answer is not None


def test_compiled_graph_is_a_langgraph_pregel_that_streams_and_checkpoints(tmp_path):
    from rolegraph.graphs.runtime import CompiledGraph

    compiled = CompiledGraph(FAN, hub(tmp_path), checkpointer=InMemorySaver())
    app = compiled.pregel
    inputs, ctx, _ = compiled.inputs_and_context(item(8))
    assert inputs == {"question": "What is 8 + 5?", "seed": 0, "answer_kind": "math"}  # no gold in the state
    assert ctx.answer_key.gold == "13"  # it rides in the run's context, which LangGraph does not store
    config = {"configurable": {"thread_id": "t1"}}

    async def stream():
        return [u async for u in app.astream(inputs, config, stream_mode="updates", context=ctx)]

    updates = asyncio.run(stream())
    names = [next(iter(u)) for u in updates]
    assert sorted(names[:3]) == ["a", "b", "c"] and names[3] == "f"
    final = updates[-1][names[-1]]
    assert final["output_node"] == "f" and final["answer"] == final["nodes"]["f"]["answer"]
    assert app.get_state(config).values == final  # the checkpointer kept the run


# Wall time / critical path is a timing goal: benchmarks/parallelism.py measures it (these two graphs
# included, as "width-8 1B/3B" and "70B>1B, 1B>70B>1B") side by side with a lock-step StateGraph.
# Here only the order of events, which any correct dataflow runtime gives whatever the machine's load.
UNBALANCED = graph([("big1", "solver", SEVENTY_B), ("small1", "solver", ONE_B),
                    ("small2", "solver", ONE_B), ("big2", "solver", SEVENTY_B),
                    ("small3", "solver", ONE_B), ("f", "fuser", EIGHT_B)],
                   [["big1", "small1"], ["small2", "big2"], ["small2", "small3"], ["small1", "f"], ["big2", "f"],
                    ["small3", "f"]])
SLEEP_SCALE = 0.03  # calls really sleep this share of their modelled latency (70B: seconds -> ~0.1 s)


def test_a_node_starts_when_its_own_inputs_are_ready_not_after_a_superstep(tmp_path):
    """big2 waits for small2 only: it starts while big1 (no path between them) is still running, and small3
    (also after small2) finishes before big1 does. A lock-step runtime would start both after big1 ended."""
    res = run(UNBALANCED, item(9), hub(tmp_path, latency_scale=SLEEP_SCALE))
    n = {t.id: t for t in res.nodes}
    assert n["big2"].start_s >= n["small2"].end_s and n["small1"].start_s >= n["big1"].end_s
    assert n["big2"].start_s < n["big1"].end_s and n["small3"].end_s < n["big1"].end_s
    assert n["f"].start_s >= max(n[p].end_s for p in ("small1", "big2", "small3"))


def test_modelled_times_follow_the_dataflow_exactly(tmp_path):
    """Without sleeping, a node starts at the latest end of its inputs and the run's latency is the critical path."""
    res = run(UNBALANCED, item(9), hub(tmp_path))
    n = {t.id: t for t in res.nodes}
    preds = {"small1": ["big1"], "big2": ["small2"], "small3": ["small2"], "f": ["small1", "big2", "small3"]}
    for node, inputs in preds.items():
        assert n[node].start_s == pytest.approx(max(n[p].end_s for p in inputs))
    assert n["big1"].start_s == n["small2"].start_s == 0.0
    assert res.latency_s == pytest.approx(res.critical_path_s) == pytest.approx(n["f"].end_s)


def test_an_answer_key_in_the_input_state_is_refused_with_the_way_out(tmp_path):
    """Old-style input with the gold in it would be checkpointed and traced: one clear error instead."""
    app = compile_graph(FAN, hub(tmp_path))
    key = item(8).answer_key().model_dump()
    with pytest.raises(GraphError, match="must not be in the graph's input state.*graph_context"):
        asyncio.run(app.ainvoke({"question": "What is 8 + 5?", "answer_key": key, "seed": 0}))


def test_a_node_cut_at_its_max_tokens_shows_as_truncated_in_its_trace(tmp_path):
    spec = graph([("a", "solver", THREE_B, {"max_tokens": 8}), ("b", "solver", THREE_B),
                  ("f", "fuser", EIGHT_B)], [["a", "f"], ["b", "f"]])
    res = run(spec, item(2), hub(tmp_path))
    cut, whole = res.node("a"), res.node("b")
    assert cut.truncated_calls == cut.calls == 1 and cut.truncated and cut.tokens_out <= 8
    assert cut.answer is None  # its final line was cut off
    assert whole.truncated_calls == 0 and not whole.truncated and whole.answer is not None
    assert res.truncated_nodes == ["a"]
    assert res.model_dump()["nodes"][0]["truncated_calls"] == 1  # in the serialised trace too


@pytest.mark.parametrize("spec", [FAN, CHAIN, graph([("s", "solver", ONE_B)], [])], ids=["fan", "chain", "one"])
def test_run_with_the_output_node_inline_matches_the_pregel_with_one_task_per_node(tmp_path, spec):
    """`run` executes the output node in the entrypoint's body; `.pregel` keeps it a task: same nodes, same outputs."""
    from rolegraph.graphs.runtime import CompiledGraph

    compiled = CompiledGraph(spec, hub(tmp_path))
    it = item(4)
    inputs, _, _ = compiled.inputs_and_context(it, seed=3)

    async def both():
        fast = await compiled.run(it, seed=3)
        ctx = compiled.inputs_and_context(it, seed=3)[1]
        tasks = [next(iter(u)) async for u in compiled.pregel.astream(inputs, stream_mode="updates", context=ctx)]
        full = await compiled.pregel.ainvoke(inputs, context=compiled.inputs_and_context(it, seed=3)[1])
        return fast, tasks, full

    fast, tasks, full = asyncio.run(both())
    assert sorted(tasks[:-1]) == sorted(spec.node_ids)  # every node, the output included, is a task there
    assert fast.answer == full["answer"] and fast.output_node == full["output_node"]
    assert {n.id: n.output for n in fast.nodes} == {k: v["output"] for k, v in full["nodes"].items()}


def test_a_wrong_tool_of_a_connected_mcp_server_names_the_tool_not_the_connection():
    """With the server connected, `wiki.serch` is a typo of the tool, not a server that failed to connect."""
    from rolegraph.graphs.io import spec_from_data
    from rolegraph.graphs.runtime import unknown_tool

    spec = spec_from_data({"name": "m", "nodes": [{"id": "s", "role": "searcher", "model": THREE_B}],
                           "mcp_servers": [{"name": "wiki", "command": ["python", "server.py"]}]})
    connected = ["calculator", "wiki.search", "wiki.fetch"]
    assert unknown_tool(spec, "s", "wiki.serch", connected).startswith(
        "node 's': MCP server 'wiki' has no tool 'wiki.serch'. Did you mean: wiki.search")
    assert "which is not connected" in unknown_tool(spec, "s", "wiki.serch", ["calculator"])

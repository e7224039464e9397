"""A router runs like a graph: on LangGraph (escalation a branch of the entrypoint, stages visible in the
"updates" stream), reusing equal nodes of earlier stages without calling them again, with one budget over the
stages that ran, and its answer equal to the stage graphs' own answers on the same item."""
from __future__ import annotations

import asyncio

import pytest

from rolegraph.errors import BudgetExceededError, GraphError
from rolegraph.graphs.budget import Budget
from rolegraph.graphs.builder import Graph
from rolegraph.graphs.interop import graph_context, graph_input
from rolegraph.graphs.router import RouterSpec, Stage, StopRule
from rolegraph.graphs.router_runtime import CompiledRouter, RouterRunResult, compile_spec, item_of
from rolegraph.graphs.runtime import CompiledGraph
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.tasks.registry import get_task

from tests.graphs.test_router import B3, B8, vote

ITEMS = 24


def cascade(min_agreement: float = 1.0) -> RouterSpec:
    return RouterSpec(name="casc", stages=[Stage(graph=vote(2, B8, "v2"), stop=StopRule(min_agreement=min_agreement)),
                                           Stage(graph=vote(3, B8, "v3"))])


@pytest.fixture
def nocache_hub(tmp_path):
    return ModelHub(ModelPool.builtin(), Settings(home=tmp_path / "h", cache=False))


def test_router_answers_are_the_stage_graphs_answers_and_reuse_makes_no_call(nocache_hub):
    router = cascade()
    items = get_task("gsm").items("validation")[:ITEMS]

    async def go():
        compiled = CompiledRouter(router, nocache_hub)
        one, two = (CompiledGraph(s.graph, nocache_hub) for s in router.stages)
        rows = []
        for item in items:
            before = nocache_hub.stats.calls
            r = await compiled.run(item)
            calls = nocache_hub.stats.calls - before
            rows.append((r, calls, await one.run(item), await two.run(item)))
        return compiled, rows

    compiled, rows = asyncio.run(go())
    flops = compiled.stage_flops("math")
    stages = {r.stage for r, *_ in rows}
    assert stages == {1, 2}  # some items stop at stage 1, some escalate
    for r, calls, a, b in rows:
        assert isinstance(r, RouterRunResult)
        agree = {x.answer for x in a.nodes if x.id != "out"} == {a.answer} and a.nodes[0].answer == a.nodes[1].answer
        assert r.stage == (1 if agree else 2)
        assert r.answer == (a.answer if r.stage == 1 else b.answer)
        assert calls == (3 if r.stage == 1 else 5)  # stage 2 calls only its new solver and its fuser
        assert r.flops_units == pytest.approx(flops[0] if r.stage == 1 else sum(flops))
        assert r.tokens == sum(s.tokens for s in r.stages)
        if r.stage == 2:
            assert r.stages[1].reused == ["n0", "n1"]
            assert [n.id for n in r.nodes] == ["s1.n0", "s1.n1", "s1.out", "s2.n2", "s2.out"]
            assert r.cost_usd == pytest.approx(a.cost_usd + b.node("n2").cost_usd + b.node("out").cost_usd)
            # modelled time: stage 1's critical path, then stage 2's new solver and its fuser
            assert r.latency_s == pytest.approx(a.latency_s + b.node("n2").latency_s + b.node("out").latency_s)


def test_updates_stream_shows_the_stages_that_ran(nocache_hub):
    router = cascade()
    compiled = CompiledRouter(router, nocache_hub)
    items = get_task("gsm").items("validation")[:ITEMS]

    async def stream(item):
        return [u async for u in compiled.pregel.astream(graph_input(item), stream_mode="updates",
                                                          context=graph_context(compiled, item))]

    seen = set()
    for item in items:
        updates = asyncio.run(stream(item))
        ran = [k for u in updates for k in u if k.startswith("stage")]
        final = updates[-1]["router"]
        assert ran == [f"stage{i}" for i in range(1, final["stage"] + 1)]
        assert updates[len(ran) - 1][ran[-1]]["stopped"] is True
        assert all(updates[i][ran[i]]["stopped"] is False for i in range(len(ran) - 1))
        seen.add(final["stage"])
        direct = asyncio.run(CompiledRouter(router, nocache_hub).run(item))
        assert (direct.answer, direct.stage) == (final["answer"], final["stage"])
    assert seen == {1, 2}
    assert compiled.task_names() == {"stage1": 1, "stage2": 2}


def test_a_router_input_without_a_context_is_its_question_and_never_holds_the_gold():
    item = get_task("gsm").items("test")[3]
    assert item_of(graph_input(item)) == graph_input(item)["question"]
    assert item_of(graph_input("free question")) == "free question"
    with pytest.raises(GraphError, match="answer key must not be in the graph's input state"):
        item_of({**graph_input(item), "answer_key": item.answer_key().model_dump()})


def test_budget_holds_over_the_stages_that_ran(nocache_hub):
    router = cascade(min_agreement=1.0)
    items = get_task("gsm").items("validation")[:ITEMS]

    async def go():
        compiled = CompiledRouter(router, nocache_hub)
        full = [await compiled.run(it) for it in items]
        escalated = next(it for it, r in zip(items, full) if r.stage == 2)
        stopped = next(it for it, r in zip(items, full) if r.stage == 1)
        one_stage = next(r for r in full if r.stage == 1)
        # a stage-1 run with room for its fuser's worst case (prompt + 768), not for a stage-2 solver (+ 1,024)
        cap = Budget(max_tokens=one_stage.tokens + 1000)
        ok = await compiled.run(stopped, budget=cap)
        with pytest.raises(BudgetExceededError) as exc:
            await compiled.run(escalated, budget=cap)
        return ok, exc.value

    ok, err = asyncio.run(go())
    assert ok.stage == 1 and ok.tokens <= ok.stages[0].tokens + 1
    partial = err.partial
    assert isinstance(partial, RouterRunResult) and partial.stage == 0 and partial.answer is None
    assert partial.stages[0].stopped is False and partial.tokens > 0  # stage 1 spent; stage 2 stopped by the cap
    assert "token budget exceeded" in str(err)


def test_a_stage_rule_that_always_holds_never_escalates(nocache_hub):
    router = RouterSpec(stages=[Stage(graph=vote(2, B3), stop=StopRule()), Stage(graph=vote(3, B8))])
    items = get_task("gsm").items("validation")[:6]
    results = [asyncio.run(compile_spec(router, nocache_hub).run(it)) for it in items]
    assert all(r.stage == 1 and len(r.stages) == 1 for r in results if r.answer is not None)


def test_router_on_the_real_local_model(llamacpp, tmp_path):
    """llama.cpp's server with SmolLM2: a one-solver stage that stops on a parsable answer, else a two-solver vote."""
    spec = llamacpp.spec()
    pool = ModelPool([*ModelPool.builtin(), spec])
    first = Graph("one").node("a", "solver", spec.id, max_tokens=6).node("b", "solver", spec.id, max_tokens=6) \
        .node("out", "fuser", spec.id, max_tokens=6).edge("a", "out").edge("b", "out").build()
    second = Graph("two").node("a", "solver", spec.id, max_tokens=6).node("out", "solver", spec.id, max_tokens=6) \
        .edge("a", "out").build()
    router = RouterSpec(stages=[Stage(graph=first, stop=StopRule(min_agreement=1.0)), Stage(graph=second)])

    async def go():
        hub = ModelHub(pool, Settings(home=tmp_path / "h"))
        try:
            return await CompiledRouter(router, hub).run("Name a colour.", answer_kind="qa")
        finally:
            await hub.aclose()

    result = asyncio.run(go())
    assert result.stage in (1, 2) and result.error is None and not result.simulated
    assert result.stages[0].signals.parsable is (result.stages[0].answer is not None)
    if result.stage == 2:
        assert result.stages[1].reused == ["a"]  # the same first solver: read, not asked again
        assert [n.id for n in result.nodes] == ["s1.a", "s1.b", "s1.out", "s2.out"]


def test_a_plurality_stage_answers_by_its_voters_without_running_the_fuser(nocache_hub):
    from tests.graphs.test_router import plurality_cascade

    router = plurality_cascade()
    items = get_task("gsm").items("validation")[:ITEMS]

    async def go():
        compiled = CompiledRouter(router, nocache_hub)
        full = CompiledGraph(router.stages[1].graph, nocache_hub)
        rows = []
        for item in items:
            before = nocache_hub.stats.calls
            r = await compiled.run(item)
            rows.append((r, nocache_hub.stats.calls - before, await full.run(item)))
        return compiled, rows

    compiled, rows = asyncio.run(go())
    one, two = compiled.stage_flops("math")
    assert {r.stage for r, *_ in rows} == {1, 2}
    for r, calls, g in rows:
        solvers = [g.node(f"n{i}").answer for i in range(3)]
        unanimous = len(set(solvers)) == 1
        assert r.stage == (1 if unanimous else 2)
        assert r.answer == (solvers[0] if unanimous else g.answer)  # the same calls as the full vote's
        assert calls == (3 if unanimous else 4)  # the fuser runs only when the solvers disagree
        assert [n.id for n in r.nodes] == ["s1.n0", "s1.n1", "s1.n2"] + ([] if unanimous else ["s2.out"])
        assert r.flops_units == pytest.approx(one if unanimous else one + two)
        assert r.output_node == ("s1.n0" if unanimous else "s2.out")


def test_a_plurality_stage_on_the_real_local_model(llamacpp, tmp_path):
    """llama.cpp's server with SmolLM2: two solvers vote without their fuser; the fuser runs only when they differ."""
    from rolegraph.graphs.signals import answer_form

    spec = llamacpp.spec()
    pool = ModelPool([*ModelPool.builtin(), spec])
    vote = Graph("two").node("a", "solver", spec.id, max_tokens=6).node("b", "solver", spec.id, max_tokens=6) \
        .node("out", "fuser", spec.id, max_tokens=6).edge("a", "out").edge("b", "out").build()
    router = RouterSpec(stages=[Stage(graph=vote, stop=StopRule(min_agreement=1.0), answer="plurality"),
                                Stage(graph=vote)])
    questions = ["What is the capital of France?", "Name a colour.", "What is 7 + 5?"]

    async def go():
        hub = ModelHub(pool, Settings(home=tmp_path / "h"))
        try:
            compiled = CompiledRouter(router, hub)
            return [await compiled.run(q, answer_kind="qa") for q in questions]
        finally:
            await hub.aclose()

    for result in asyncio.run(go()):
        assert result.error is None and not result.simulated
        a, b = (result.node(f"s1.{n}").answer for n in ("a", "b"))
        agree = a is not None and answer_form(a) == answer_form(b)
        assert result.stage == (1 if agree else 2)
        if agree:
            assert result.answer == a and [n.id for n in result.nodes] == ["s1.a", "s1.b"]
        else:
            assert result.stages[1].reused == ["a", "b"] and [n.id for n in result.nodes] == ["s1.a", "s1.b", "s2.out"]


def test_a_cheaper_output_stage_on_the_real_local_model(llamacpp, tmp_path):
    """Two real SmolLM2 solvers read by a real SmolLM2 fuser (the cheaper output `route fit` derives from a vote
    whose fuser is the sim 8B) on a GSM item: escalating runs only the 8B fuser, over the same two real answers."""
    from rolegraph.models.llamacpp_server import SMOLLM2_PARAMS_B
    from rolegraph.models.provenance import PARTLY
    from rolegraph.optimize.paired import cheaper_outputs

    spec = llamacpp.spec(logprobs=True)
    pool = ModelPool([*ModelPool.builtin(), spec])
    full = Graph("two").node("a", "solver", spec.id, max_tokens=6).node("b", "solver", spec.id, max_tokens=6) \
        .node("out", "fuser", B8, max_tokens=6).edge("a", "out").edge("b", "out").build()
    (cheap,) = cheaper_outputs(full, {B8: 8.0, spec.id: SMOLLM2_PARAMS_B})
    assert cheap.node("out").model == spec.id
    never = StopRule(min_logprob=0.0)  # a sure answer only: six tokens of a 135M model on GSM never are
    router = RouterSpec(stages=[Stage(graph=cheap, stop=never), Stage(graph=full)])

    item = get_task("gsm").items("validation")[0]  # the sim 8B reads its answer key here, in process

    async def go():
        hub = ModelHub(pool, Settings(home=tmp_path / "h"))
        try:
            return await CompiledRouter(router, hub).run(item)
        finally:
            await hub.aclose()

    result = asyncio.run(go())
    assert result.error is None and result.stages[0].signals.logprob is not None
    assert result.stages[0].signals.logprob < 0 and result.stage == 2
    assert result.stages[1].reused == ["a", "b"]  # the real answers are read again, not asked again
    assert [n.id for n in result.nodes] == ["s1.a", "s1.b", "s1.out", "s2.out"]
    assert result.simulation == PARTLY  # real solvers and a real stage-1 fuser beside the sim 8B

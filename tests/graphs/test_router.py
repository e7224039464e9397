"""Router specs and files: stop rules on observed signals, reuse of equal nodes, per-stage FLOPs, and the
one-line problems a bad router file gets (like a bad graph file)."""
from __future__ import annotations

import pytest

from rolegraph.errors import GraphError
from rolegraph.graphs.analysis import MATH_PROFILE, flops_units, node_flops_units
from rolegraph.graphs.builder import Graph
from rolegraph.graphs.io import graph_hash
from rolegraph.graphs.result import NodeTrace, RunResult
from rolegraph.graphs.router import RouterSpec, Stage, StopRule, check_router, stage_flops
from rolegraph.graphs.router_io import dumps_router, load_router, load_spec, router_hash, save_router
from rolegraph.graphs.signals import Signals, answer_form, observe
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.pool import ModelPool

B8, B3, B1 = "sim/llama-3.1-8b", "sim/llama-3.2-3b", "sim/llama-3.2-1b"


def vote(k: int, model: str, name: str = "vote", fuser: str | None = None, first: int = 0) -> GraphSpec:
    g = Graph(name)
    for i in range(first, first + k):
        g = g.node(f"n{i}", "solver", model)
    g = g.node("out", "fuser", fuser or model)
    for i in range(first, first + k):
        g = g.edge(f"n{i}", "out")
    return g.build()


def cascade(rule: StopRule | None = None) -> RouterSpec:
    return RouterSpec(name="casc", stages=[Stage(graph=vote(2, B8, "v2"), stop=rule or StopRule(min_agreement=1.0)),
                                           Stage(graph=vote(3, B8, "v3"))])


def test_equal_nodes_are_reused_and_counted_once():
    router = cascade()
    assert router.reuse() == [{}, {"n0": "s1.n0", "n1": "s1.n1"}]  # the fusers read different inputs: not equal
    assert router.node_ids == ["s1.n0", "s1.n1", "s1.out", "s2.n2", "s2.out"]
    pool = ModelPool.builtin()
    per_node = node_flops_units(router.stages[1].graph, pool, MATH_PROFILE)
    one, two = stage_flops(router, pool, MATH_PROFILE)
    assert one == pytest.approx(flops_units(router.stages[0].graph, pool, MATH_PROFILE))
    assert two == pytest.approx(per_node["n2"] + per_node["out"])
    assert sum(per_node.values()) == pytest.approx(flops_units(router.stages[1].graph, pool, MATH_PROFILE))


def test_nodes_differing_in_model_params_or_inputs_are_not_reused():
    other_model = RouterSpec(stages=[Stage(graph=vote(2, B3), stop=StopRule()), Stage(graph=vote(2, B8))])
    params = RouterSpec(stages=[Stage(graph=vote(2, B8), stop=StopRule()),
                                Stage(graph=Graph("p").node("n0", "solver", B8, temperature=0.9)
                                      .node("out", "fuser", B8).edge("n0", "out").build())])
    shifted = RouterSpec(stages=[Stage(graph=vote(2, B8), stop=StopRule()), Stage(graph=vote(2, B8, first=2))])
    same_fuser = RouterSpec(stages=[Stage(graph=vote(2, B8), stop=StopRule()),
                                    Stage(graph=vote(2, B8).model_copy(update={"name": "renamed"}))])
    assert other_model.reuse()[1] == {} and params.reuse()[1] == {} and shifted.reuse()[1] == {}
    assert same_fuser.reuse()[1] == {"n0": "s1.n0", "n1": "s1.n1", "out": "s1.out"}  # an equal stage is all reuse


@pytest.mark.parametrize("signals, rule, passes", [
    (Signals(agreement=1.0, parsable=True), StopRule(min_agreement=1.0), True),
    (Signals(agreement=2 / 3, parsable=True), StopRule(min_agreement=0.67), False),
    (Signals(agreement=2 / 3, parsable=True), StopRule(min_agreement=2 / 3), True),
    (Signals(agreement=1.0, parsable=False), StopRule(), False),  # unparsable always escalates
    (Signals(agreement=None, parsable=True), StopRule(min_agreement=0.5), False),
    (Signals(parsable=True, verified=None), StopRule(require_verified=True), False),
    (Signals(parsable=True, verified=True), StopRule(require_verified=True), True),
    (Signals(parsable=True, logprob=-0.2), StopRule(min_logprob=-0.5), True),
    (Signals(parsable=True, logprob=None), StopRule(min_logprob=-0.5), False),
    # agreement or a sure speaker: either suffices, neither does not, and an unparsable answer still escalates
    (Signals(agreement=0.0, parsable=True, logprob=-0.2), StopRule(min_agreement=1.0, or_min_logprob=-0.3), True),
    (Signals(agreement=1.0, parsable=True, logprob=-0.9), StopRule(min_agreement=1.0, or_min_logprob=-0.3), True),
    (Signals(agreement=0.0, parsable=True, logprob=-0.9), StopRule(min_agreement=1.0, or_min_logprob=-0.3), False),
    (Signals(agreement=0.0, parsable=True, logprob=None), StopRule(min_agreement=1.0, or_min_logprob=-0.3), False),
    (Signals(agreement=1.0, parsable=False, logprob=-0.1), StopRule(min_agreement=1.0, or_min_logprob=-0.3), False),
])
def test_stop_rules(signals, rule, passes):
    assert rule.passes(signals) is passes


def test_a_logprob_alternative_needs_a_condition_and_reads_as_one():
    with pytest.raises(GraphError, match="^StopRule: or_min_logprob is an alternative"):
        StopRule(or_min_logprob=-0.3)
    rule = StopRule(min_agreement=1.0, or_min_logprob=-0.25)
    assert rule.text() == "answer parsed and (agreement >= 1.00 or mean logprob >= -0.25)"


def _trace(node_id, role, answer, verdicts=None, logprob=None):
    return NodeTrace(id=node_id, role=role, model=B8, answer=answer, verdicts=verdicts or {}, logprob=logprob)


def test_signals_from_a_run():
    run = RunResult(answer="1,000", output_node="out", nodes=[
        _trace("a", "solver", "1000"), _trace("b", "solver", "999"), _trace("p", "planner", None),
        _trace("v", "verifier", "1000.0", {"a": "correct", "b": "incorrect"}), _trace("out", "fuser", "1,000",
                                                                                  logprob=-0.3)])
    s = observe(run)
    assert s.agreement == pytest.approx(2 / 3) and s.verified is True and s.parsable and s.logprob == -0.3
    rejected = run.model_copy(update={"nodes": [*run.nodes[:3], _trace("v", "verifier", "999", {"a": "incorrect"}),
                                                run.nodes[4]]})
    assert observe(rejected).verified is False and observe(rejected).agreement == pytest.approx(1 / 3)
    alone = RunResult(answer=None, output_node="out", nodes=[_trace("out", "solver", None)])
    assert observe(alone) == Signals(agreement=None, verified=None, parsable=False, logprob=None)
    assert answer_form(" The  Answer. ") == "the answer" and answer_form("$1,200.50") == answer_form("1200.5")


def test_file_round_trip_hash_and_stage_files(tmp_path):
    router = cascade(StopRule(min_agreement=0.5, require_verified=False))
    path = save_router(router, tmp_path / "r.yaml")
    assert load_router(path) == router and load_spec(path) == router
    assert load_spec(path).model_dump() == router.model_dump()
    as_json = save_router(router, tmp_path / "r.json")
    assert load_spec(as_json) == router
    assert router_hash(router) == router_hash(router.model_copy(update={"name": "other", "fit": {"x": 1}}))
    assert router_hash(router) != router_hash(cascade(StopRule(min_agreement=1.0)))
    assert dumps_router(router).startswith("kind: router\nname: casc\nstages:\n  - stop: {min_agreement: 0.5}\n")
    (tmp_path / "g.yaml").write_text("name: v3\nnodes:\n  - {id: n0, role: solver, model: sim/llama-3.1-8b}\n")
    (tmp_path / "by_path.yaml").write_text("kind: router\nstages:\n  - graph: g.yaml\n")
    by_path = load_spec(tmp_path / "by_path.yaml")
    assert isinstance(by_path, RouterSpec) and graph_hash(by_path.stages[0].graph) == graph_hash(
        Graph("v3").node("n0", "solver", B8).build())


@pytest.mark.parametrize("text, first", [
    ("kind: router\nstages: []\n", "field 'stages': expected a non-empty list"),
    ("kind: router\nstages:\n  - {stop: {}}\n", "stage 1: missing field 'graph'"),
    ("kind: router\nstages:\n  - {graph: {nodes: [{id: a, role: solver}]}}\n", "stage 1: node 1 ('a'): missing field 'model'"),
    ("kind: router\nstages:\n  - {graph: {nodes: [{id: a, role: solver, model: m}]}, stop: {min_agreemnt: 1}}\n",
     "stage 1: unknown stop condition 'min_agreemnt'"),
    ("kind: router\nstages:\n  - {graph: {nodes: [{id: a, role: solver, model: m}]}, stop: {min_agreement: 2}}\n",
     "stage 1: stop.min_agreement: Input should be less than or equal to 1"),
    ("kind: router\nstagez: []\n", "unknown field 'stagez'"),
    ("kind: router\nstages:\n  - {graph: missing.yaml}\n", "stage 1: graph file missing.yaml: graph file not found"),
    ("kind: graph\nstages: []\n", "field 'kind': a router file says kind: router"),
])
def test_bad_router_files_give_one_line_problems(tmp_path, text, first):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(GraphError) as exc:
        load_spec(path)
    assert exc.value.problems[0].startswith(first), exc.value.problems
    assert str(path) in str(exc.value) and "\n" not in str(exc.value)


def test_semantic_checks_name_the_stage():
    # the sim pool asks for log-probabilities; one entry without them is what the logprob checks catch
    pool = ModelPool([s.model_copy(update={"logprobs": s.id != B8}) for s in ModelPool.builtin()])
    single = Graph("one").node("a", "solver", B8).build()
    problems = [
        (RouterSpec(stages=[Stage(graph=vote(2, "sim/nope"), stop=StopRule()), Stage(graph=vote(2, B8))]),
         "stage 1: node 'n0': unknown model 'sim/nope'"),
        (RouterSpec(stages=[Stage(graph=single), Stage(graph=vote(2, B8))]), "stage 1: needs a 'stop' rule"),
        (RouterSpec(stages=[Stage(graph=vote(2, B8), stop=StopRule())]), "stage 1: the last stage always answers"),
        (RouterSpec(stages=[Stage(graph=single, stop=StopRule(min_agreement=0.5)), Stage(graph=vote(2, B8))]),
         "stage 1: min_agreement needs answering nodes besides the output"),
        (RouterSpec(stages=[Stage(graph=vote(2, B8), stop=StopRule(require_verified=True)), Stage(graph=single)]),
         "stage 1: require_verified needs a verifier node"),
        (RouterSpec(stages=[Stage(graph=vote(2, B8), stop=StopRule(min_logprob=-1)), Stage(graph=single)]),
         "stage 1: min_logprob needs log-probabilities from 'sim/llama-3.1-8b'"),
        (RouterSpec(stages=[Stage(graph=vote(2, B8), stop=StopRule(min_agreement=1.0, or_min_logprob=-1)),
                            Stage(graph=single)]),
         "stage 1: or_min_logprob needs log-probabilities from 'sim/llama-3.1-8b'"),
    ]
    for router, first in problems:
        with pytest.raises(GraphError) as exc:
            check_router(router, pool)
        assert exc.value.problems[0].startswith(first), exc.value.problems
    assert check_router(cascade(), pool) is not None


def plurality_cascade() -> RouterSpec:
    """Stage 1: the vote's three solvers answer by plurality (no fuser); stage 2: the same vote with its fuser."""
    v3 = vote(3, B8, "v3")
    return RouterSpec(name="plural", stages=[Stage(graph=v3, stop=StopRule(min_agreement=1.0), answer="plurality"),
                                             Stage(graph=v3)])


def test_a_plurality_stage_never_runs_its_output_and_the_next_stage_adds_only_the_fuser():
    router = plurality_cascade()
    assert router.reuse() == [{}, {"n0": "s1.n0", "n1": "s1.n1", "n2": "s1.n2"}]
    assert router.node_ids == ["s1.n0", "s1.n1", "s1.n2", "s2.out"]
    pool = ModelPool.builtin()
    per_node = node_flops_units(router.stages[1].graph, pool, MATH_PROFILE)
    one, two = stage_flops(router, pool, MATH_PROFILE)
    assert one == pytest.approx(per_node["n0"] + per_node["n1"] + per_node["n2"])
    assert two == pytest.approx(per_node["out"])
    assert router_hash(router) != router_hash(RouterSpec(stages=[Stage(graph=vote(3, B8, "v3"), stop=StopRule(
        min_agreement=1.0)), Stage(graph=vote(3, B8, "v3"))]))


def test_a_plurality_stage_round_trips_through_its_file(tmp_path):
    router = plurality_cascade()
    path = save_router(router, tmp_path / "r.yaml")
    assert "answer: plurality" in path.read_text()
    back = load_router(path)
    assert [s.answer for s in back.stages] == ["plurality", "output"]
    assert router_hash(back) == router_hash(router)


def test_a_bad_plurality_stage_gets_one_line_each(tmp_path):
    lone = Graph("lone").node("a", "solver", B8).node("out", "fuser", B8).edge("a", "out").build()
    bad = RouterSpec(stages=[Stage(graph=lone, stop=StopRule(min_agreement=1.0), answer="plurality"),
                             Stage(graph=vote(3, B8))])
    with pytest.raises(GraphError) as exc:
        check_router(bad, ModelPool.builtin())
    assert any("answer: plurality needs at least 2 answering nodes" in p for p in exc.value.problems)
    shared = (Graph("shared").node("p", "solver", B8).node("a", "solver", B8).node("b", "solver", B8)
              .node("out", "fuser", B8).edge("p", "a").edge("p", "b").edge("a", "out").edge("b", "out").build())
    with pytest.raises(GraphError) as exc:
        check_router(RouterSpec(stages=[Stage(graph=shared, answer="plurality")]), ModelPool.builtin())
    assert any("share no nodes ('p'" in p for p in exc.value.problems)
    path = tmp_path / "r.yaml"
    path.write_text("kind: router\nstages:\n  - graph: {nodes: [{id: a, role: solver, model: sim/llama-3.1-8b}]}\n"
                    "    answer: majority\n")
    with pytest.raises(GraphError) as exc:
        load_router(path)
    assert exc.value.problems == ["stage 1: 'answer' must be one of output, plurality, got 'majority'"]


def test_plurality_voter_is_the_first_voter_of_the_most_common_answer():
    from rolegraph.graphs.signals import plurality_voter

    assert plurality_voter([("a", "3"), ("b", "4"), ("c", "4.0")]) == "b"
    assert plurality_voter([("a", "3"), ("b", "4")]) == "a"  # a tie: the answer given first
    assert plurality_voter([("a", None), ("b", "x")]) == "b"
    assert plurality_voter([("a", None)]) is None

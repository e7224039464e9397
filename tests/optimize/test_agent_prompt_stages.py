"""The LLM agent's step prompt names the stage of each worker slot on a staged space (a search-stage 3B and a
solve-stage 3B read alike before: slot, role, model), in its leaderboard, this iteration's scores and the per-node
statistics. A free-form space's prompt is byte for byte what it was (`FREE_FORM_PROMPT`, taken before the change)."""
from __future__ import annotations

from pathlib import Path

from rolegraph.evaluate.result import NodeStats
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.optimize.agent_prompt import step_prompt
from rolegraph.optimize.feedback import StepContext
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.stages import Stage, StageOutput
from rolegraph.optimize.trace import EvalRecord, Evaluation

S1, S3, S8 = "sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b"
FREE_FORM_PROMPT = Path(__file__).with_name("fixtures") / "free_form_step_prompt.txt"
CHARS = 20_000


def staged(pool) -> SearchSpace:
    return SearchSpace(pool=pool, models=(), budget=None, family="qa",
                       stages=(Stage("search", "searcher", (S1, S3), (1, 2)),
                               Stage("solve", "solver", (S1, S3, S8), (1, 2, 3))),
                       stage_output=StageOutput(("fuser",), (S3, S8)))


def free_form(pool) -> SearchSpace:
    return SearchSpace(pool=pool, models=(S1, S3, S8), budget=18, max_nodes=4)


def staged_graph() -> GraphSpec:
    """A 3B searcher (slot n0, stage 'search') read by a 3B solver (slot n2, stage 'solve'), fused by an 8B."""
    return GraphSpec(name="staged-3b-3b", nodes=[NodeSpec(id="n0", role="searcher", model=S3),
                                                 NodeSpec(id="n2", role="solver", model=S3),
                                                 NodeSpec(id="out", role="fuser", model=S8)],
                     edges=[("n0", "n2"), ("n2", "out")], output="out")


def free_graph() -> GraphSpec:
    return GraphSpec(name="free-3b-3b", nodes=[NodeSpec(id="n0", role="solver", model=S3),
                                               NodeSpec(id="n1", role="solver", model=S3),
                                               NodeSpec(id="out", role="fuser", model=S8)],
                     edges=[("n0", "out"), ("n1", "out")], output="out")


def step_ctx(space: SearchSpace, graph: GraphSpec) -> StepContext:
    record = EvalRecord(seq=4, iteration=2, phase="search", source="sampled", graph_hash="abc", graph_name=graph.name,
                        objective=0.625, accuracy=0.625, latency_s=2.5, dollars=0.0001, n=8)
    per_node = {n.id: NodeStats(role=n.role, model=n.model, n=8, correct_rate=None if n.role == "searcher" else 0.5,
                                agree_rate=0.75) for n in graph.nodes}
    evaluation = Evaluation(record=record, graph=graph, choices=None, per_node=per_node)
    return StepContext(space=space, pg=ProbabilisticGraph(space), iteration=2, evaluations=[evaluation],
                       best_graph=graph, best_objective=0.625, best_n=8, task="hotpotqa", scored=[(graph, 0.625, 8)])


def test_a_staged_spaces_lines_name_each_workers_stage(pool):
    text = step_prompt(step_ctx(staged(pool), staged_graph()), CHARS)
    line = "[n0[search]:searcher/llama-3.2-3b, n2[solve]:solver/llama-3.2-3b] -> fuser/llama-3.1-8b (1 inner edges)"
    assert f"- {line}: objective 0.625 on 8 items" in text  # the leaderboard
    assert f"- {line}: objective 0.625, accuracy 0.625" in text  # this iteration's scores
    assert "- staged-3b-3b n0[search] (searcher, sim/llama-3.2-3b): right -, agreed 0.75" in text
    assert "- staged-3b-3b n2[solve] (solver, sim/llama-3.2-3b): right 0.50, agreed 0.75" in text
    assert "- staged-3b-3b out (fuser, sim/llama-3.1-8b): right 0.50, agreed 0.75" in text


def test_two_stages_of_one_role_and_model_read_apart(pool):
    """A draft stage and a refine stage both of 3B solvers: only the stage tells their slots apart."""
    space = SearchSpace(pool=pool, models=(), budget=None, family="qa",
                        stages=(Stage("draft", "solver", (S1, S3), (1,)), Stage("refine", "solver", (S3,), (1,))),
                        stage_output=StageOutput(("fuser",), (S8,)))
    graph = GraphSpec(name="draft-refine", nodes=[NodeSpec(id="n0", role="solver", model=S3),
                                                  NodeSpec(id="n1", role="solver", model=S3),
                                                  NodeSpec(id="out", role="fuser", model=S8)],
                      edges=[("n0", "n1"), ("n1", "out")], output="out")
    text = step_prompt(step_ctx(space, graph), CHARS)
    assert "[n0[draft]:solver/llama-3.2-3b, n1[refine]:solver/llama-3.2-3b]" in text


def test_a_free_form_spaces_prompt_is_unchanged(pool):
    text = step_prompt(step_ctx(free_form(pool), free_graph()), CHARS)
    assert text == FREE_FORM_PROMPT.read_text()
    assert "- [n0:solver/llama-3.2-3b, n1:solver/llama-3.2-3b] -> fuser/llama-3.1-8b: objective 0.625 on 8 items" in text

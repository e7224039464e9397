"""A graph one of whose nodes may be sent more tokens than its model's `context_window` is not in the search space:
no optimizer, the pilot included, proposes it, and a space none of whose graphs fits says so in one line.

The expected shapes are worked out by hand from the built-in roles' `max_tokens` (solver 1024, fuser 768) and the
default question allowance (256 tokens), whatever the role prompts add (>= 0): a fuser reading k solvers needs at
least k * 1024 + 768 + 256 tokens, a lone solver at least 1024 + 256."""
from __future__ import annotations

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.errors import SearchError
from rolegraph.items import Item
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.choices import Choices, edge_pairs, realise
from rolegraph.optimize.pilot import anytime_pilot, ensemble, fan_in
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.space_context import QUESTION_ALLOWANCE_TOKENS, question_tokens

from .conftest import SIM_MODELS

SMALL = "real/small"


def small_pool(window: int | None) -> ModelPool:
    """The built-in pool and one real model (never called here) of the given context window."""
    spec = ModelSpec(id=SMALL, backend="openai", base_url="http://127.0.0.1:9/v1", model="small", params_b=0.135,
                     layers=30, hidden=576, context_window=window)
    return ModelPool([*ModelPool.builtin(), spec])


def small_space(window: int | None, **kw) -> SearchSpace:
    return SearchSpace(pool=small_pool(window), models=(SMALL,), roles=("solver", "fuser"), max_nodes=6,
                       budget=None, **kw)


def test_without_a_window_the_pilot_fills_every_slot():
    """The control: no window stated, no limit (so the tests below fail for the window, not for the space)."""
    spec = ensemble(small_space(None), SMALL)
    assert spec is not None and len(spec.nodes) == 6


def test_a_4096_window_holds_two_solvers_into_a_fuser_not_three():
    space = small_space(4096)
    # 2 * 1024 + 768 + 256 = 3072 (+ prompts and framing, well under 1024 of them) fits; 3 * 1024 + 768 + 256 > 4096
    assert space.fits(fan_in(space, [SMALL] * 2, SMALL, "vote2"))
    assert not space.fits(fan_in(space, [SMALL] * 3, SMALL, "vote3"))
    spec = ensemble(space, SMALL)
    assert spec is not None and len(spec.nodes) == 3


def test_a_2048_window_leaves_the_pilot_one_node():
    """1024 + 768 + 256 = 2048 before any prompt: no fuser can read a solver, so only the model alone remains."""
    space = small_space(2048)
    graphs = [spec for _, spec in anytime_pilot(space)]
    assert graphs and all(len(spec.nodes) == 1 for spec in graphs)
    over = space.overflow(fan_in(space, [SMALL] * 5, SMALL, "vote5"))
    assert over is not None and over.model == SMALL and over.window == 2048 and over.tokens > 5 * 1024


def test_repair_brings_any_choice_inside_the_window():
    space = small_space(4096)
    w = space.worker_slots
    every = Choices(present=(True,) * w, models=(0,) * w, roles=(0,) * w,
                    edges=tuple(True for _ in edge_pairs(w, space.worker_edges)), out_model=0, out_role=1)
    _, spec = realise(space, every, "repaired")
    assert space.fits(spec)
    assert len(spec.predecessors(spec.output_id())) <= 2  # three 1024-token solvers cannot fit (see above)


def test_a_space_whose_every_graph_overflows_is_one_line():
    """A lone solver writes up to 1024 tokens: a 1000-token window holds no graph at all."""
    with pytest.raises(SearchError) as caught:
        small_space(1000)
    msg = str(caught.value)
    assert "\n" not in msg and SMALL in msg and "context window 1000" in msg


def test_a_model_that_cannot_run_alone_is_left_out_and_said():
    """Of two models, the one whose window holds no node is left out (as a too-expensive one is), and described."""
    pool = ModelPool([*small_pool(1000), ModelSpec(id="real/big", backend="openai", base_url="http://127.0.0.1:9/v1",
                                                   model="big", params_b=1.0, context_window=32768)])
    space = SearchSpace(pool=pool, models=(SMALL, "real/big"), roles=("solver", "fuser"), budget=None)
    assert space.models == ("real/big",) and space.window_excluded == (SMALL,)
    assert "context window" in space.describe() and SMALL in space.describe()
    again = SearchSpace.from_dict(space.to_dict(), pool)
    assert again.models == ("real/big",) and again.window_excluded == (SMALL,)


def test_the_task_s_longest_question_replaces_the_allowance():
    space = small_space(4096)
    vote2 = fan_in(space, [SMALL] * 2, SMALL, "vote2")
    assert space.question_tokens == QUESTION_ALLOWANCE_TOKENS and space.fits(vote2)
    space.adopt_question_tokens(1200)  # 2 * 1024 + 768 + 1200 > 4096; 1024 + 1200 is far below it
    assert not space.fits(vote2) and space.fits(space.single(SMALL))
    assert SearchSpace.from_dict(space.to_dict(), space.pool).question_tokens == 1200  # a resume prices the same
    with pytest.raises(SearchError, match="no graph of the search space fits"):
        space.adopt_question_tokens(3500)  # 1024 + 3500 > 4096: not even one node


def test_question_tokens_is_the_longest_question_with_its_choices():
    short = Item(id="a", question="What is two plus two?", gold="4")
    long = Item(id="b", question="word " * 400, gold="x")
    mcq = Item(id="c", question="Pick one.", gold="A", family="mmlu", choices=["alpha " * 300, "beta"])
    assert question_tokens([short, long]) == question_tokens([long]) > question_tokens([short]) > 0
    assert question_tokens([mcq]) > question_tokens([Item(id="d", question="Pick one.", gold="A")])
    assert 400 <= question_tokens([long]) <= 2000  # 400 words: about one token each, not characters


def test_the_simulated_pool_is_never_limited(pool):
    """The sim models' 131,072-token windows hold the densest graph of the default space: 5 workers each reading
    every earlier one and all feeding the output, at the largest built-in max_tokens (solvers, 1024 tokens)."""
    space = SearchSpace(pool=pool, models=SIM_MODELS, budget=None)
    w = space.worker_slots
    dense = Choices(present=(True,) * w, models=(3,) * w, roles=(space.worker_roles.index("solver"),) * w,
                    edges=tuple(True for _ in edge_pairs(w, True)), out_model=3, out_role=0)
    _, spec = realise(space, dense, "dense")
    assert len(spec.nodes) == 6 and space.overflow(spec) is None
    assert space.window_excluded == ()


def test_the_command_line_says_it_in_one_line_with_exit_2(tmp_path, capsys, monkeypatch):
    """The repro's shape: a pool file whose model's window holds no graph; `optimize` refuses it before any call."""
    from tests.cli.support import run_cli

    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    pool_file = tmp_path / "pool.yaml"
    pool_file.write_text(
        "models:\n  - {id: real/small, backend: openai, base_url: 'http://127.0.0.1:9/v1', model: small,\n"
        "     context_window: 1000, params_b: 0.135, layers: 30, hidden: 576}\n"
    )
    code, out, err = run_cli(capsys, "optimize", "--task", "arith", "--pool", pool_file, "--budget-kind", "dollars",
                             "--budget", 0.002, "--iterations", 1, "--out", tmp_path / "ro")
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith("error: no graph of the search space fits") and "real/small" in lines[0]
    assert "context window 1000" in lines[0] and not (tmp_path / "ro").exists()


def test_a_staged_space_drops_the_model_and_refuses_a_pipeline_that_cannot_fit():
    """Stages: a solver stage then a fuser. The 1000-token model cannot run one node, so it leaves the stage and the
    output; with only the 2048-token model, two 1024-token solvers into a 768-token fuser (> 2048 before any prompt)
    is the smallest pipeline: no staged graph fits, said in one line (no budget involved: there is none)."""
    from rolegraph.optimize.stages import Stage, StageOutput

    roomy = ModelSpec(id="real/roomy", backend="openai", base_url="http://127.0.0.1:9/v1", model="roomy",
                      params_b=1.0, context_window=32768)
    tight = ModelSpec(id="real/tight", backend="openai", base_url="http://127.0.0.1:9/v1", model="tight",
                      params_b=0.5, context_window=2048)
    pool = ModelPool([*small_pool(1000), roomy, tight])
    space = SearchSpace(pool=pool, models=(), budget=None, stages=(Stage("solve", "solver", (SMALL, "real/roomy"),
                        (1, 2)),), stage_output=StageOutput(("fuser",), (SMALL, "real/roomy")))
    assert space.window_excluded == (SMALL,)
    assert space.stages[0].models == ("real/roomy",) and space.staged_output.models == ("real/roomy",)
    with pytest.raises(SearchError) as caught:
        SearchSpace(pool=pool, models=(), budget=None, stages=(Stage("solve", "solver", ("real/tight",), (2,)),),
                    stage_output=StageOutput(("fuser",), ("real/tight",)))
    msg = str(caught.value)
    assert "\n" not in msg and msg.startswith("no graph of the staged space fits") and "real/tight" in msg
    assert "2048" in msg


def test_the_llm_agents_proposed_graph_over_a_window_is_refused_for_the_window():
    """`validate_update` took any graph `fits` refused for over budget: with no budget that was a TypeError, and
    over a window it named the budget, not the window."""
    from rolegraph.optimize.feedback import GraphUpdate, ProposedGraph, ProposedNode, validate_update
    from rolegraph.optimize.probabilistic import ProbabilisticGraph

    pg = ProbabilisticGraph(small_space(4096))
    wide = ProposedGraph(
        nodes=[ProposedNode(id=f"n{i}", role="solver", model=SMALL) for i in range(3)]
        + [ProposedNode(id="out", role="fuser", model=SMALL)],
        edges=[(f"n{i}", "out") for i in range(3)])
    problems = validate_update(GraphUpdate(proposed_graph=wide), pg)
    assert len(problems) == 1 and "over real/small's context window 4096" in problems[0], problems


def test_before_its_task_is_known_a_small_window_is_judged_by_what_cannot_fit_with_any_question():
    """A space made by the command line's flags does not know its task: the 256-token default allowance refused a
    window that the task's short questions fit (a lone 1024-token solver in 1,480 tokens). Until the task's
    questions are adopted, only what cannot fit even with an empty question is left out; then the rule is exact."""
    window = 1024 + 256 + 200  # with the default allowance a lone solver's prompt (> 200 tokens of it) overflows
    space = small_space(window)  # not refused
    assert space.models == (SMALL,) and space.window_excluded == ()
    space.adopt_question_tokens(8)  # arithmetic questions: a few tokens
    assert space.models == (SMALL,) and space.fits(space.single(SMALL))
    with pytest.raises(SearchError, match="no graph of the search space fits"):
        space.adopt_question_tokens(450)


def test_a_model_left_out_for_a_long_question_comes_back_for_a_short_one():
    """`adopt_question_tokens` looks again at the models it left out: one that fits now is searched, not dropped
    from both lists (it was neither searched nor said to be left out)."""
    pool = ModelPool([*small_pool(1024 + 256 + 200), ModelSpec(id="real/big", backend="openai",
                                                                base_url="http://127.0.0.1:9/v1", model="big",
                                                                params_b=1.0, context_window=32768)])
    space = SearchSpace(pool=pool, models=(SMALL, "real/big"), roles=("solver", "fuser"), budget=None)
    space.adopt_question_tokens(450)
    assert space.models == ("real/big",) and space.window_excluded == (SMALL,)
    space.adopt_question_tokens(8)
    assert set(space.models) == {SMALL, "real/big"} and space.window_excluded == ()


def test_a_refusal_before_the_task_is_known_says_no_question_was_counted():
    """A space made before its task's questions are read counts no question: its refusal says so, rather than
    "its max_tokens, question and prompt" beside a figure with no question in it."""
    with pytest.raises(SearchError, match=r"tokens: its max_tokens and prompt, before any question\)"):
        small_space(1024)
    space = small_space(1024 + 256 + 200)
    with pytest.raises(SearchError, match=r"tokens: its max_tokens, question and prompt\)"):
        space.adopt_question_tokens(450)

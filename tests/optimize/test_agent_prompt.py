"""The LLM agent's prompt fits its model's context window: the whole leaderboard when it fits, the best
graphs and a one-line summary of the rest when it does not; the compact system prompt in small windows;
`max_tokens` is what is left; the characters-per-token estimate only goes down."""
from __future__ import annotations

import pytest

from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.optimize.agent_prompt import (
    MIN_REPLY_TOKENS,
    TokenBudget,
    prompt_text,
    step_prompt,
    system_prompt,
)
from rolegraph.optimize.feedback import StepContext
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import SearchSpace

from .conftest import SIM_MODELS

GRAPHS = 200


def _graph(k: int) -> GraphSpec:
    model = SIM_MODELS[k % 3]
    return GraphSpec(name=f"g{k}", nodes=[NodeSpec(id="n0", role="solver", model=model),
                                          NodeSpec(id="out", role="fuser", model=SIM_MODELS[(k // 3) % 3])],
                     edges=[("n0", "out")], output="out")


def _ctx(pool, graphs: int) -> StepContext:
    space = SearchSpace(pool=pool, models=SIM_MODELS[:3], budget=18, max_nodes=4)
    scored = [(_graph(k), 0.9 - k / (2 * graphs), 4 + k % 5) for k in range(graphs)]
    return StepContext(space=space, pg=ProbabilisticGraph(space), iteration=3, evaluations=[],
                       best_graph=scored[0][0], best_objective=scored[0][1], best_n=scored[0][2], task="gsm",
                       scored=scored)


def test_a_short_leaderboard_is_shown_whole(pool):
    budget = TokenBudget(window=128_000, reply_cap=1024)
    text = step_prompt(_ctx(pool, 5), budget.prompt_chars(system_prompt(budget)))
    assert "Every graph scored so far (5)" in text
    assert text.count("objective 0.") >= 5 and "more graphs scored lower" not in text


def test_a_long_leaderboard_is_summarised_to_fit_a_small_window(pool):
    budget = TokenBudget(window=2048, reply_cap=1024)
    system = system_prompt(budget)
    assert system == prompt_text("system_short.md")  # the full one would crowd 2,048 tokens
    chars = budget.prompt_chars(system)
    text = step_prompt(_ctx(pool, GRAPHS), chars)
    assert len(text) <= chars
    assert f"Every graph scored so far ({GRAPHS})" in text
    assert "objective 0.900" in text  # the best graph is always there
    assert f"more graphs scored lower, objectives 0.4" in text  # the rest in one line, with their range
    messages = [{"role": "system", "content": system}, {"role": "user", "content": text}]
    assert budget.max_tokens(messages) >= MIN_REPLY_TOKENS
    assert budget.tokens(messages) + budget.max_tokens(messages) <= budget.window


def test_a_large_window_gets_the_full_system_prompt():
    assert system_prompt(TokenBudget(window=128_000, reply_cap=1024)) == prompt_text("system.md")


def test_max_tokens_is_what_is_left_and_capped():
    budget = TokenBudget(window=2048, reply_cap=1024, chars_per_token=3.0)
    messages = [{"role": "user", "content": "x" * 3000}]  # ~1,000 tokens
    left = budget.max_tokens(messages)
    assert left == 2048 - budget.tokens(messages) - budget.safety < 1024
    assert TokenBudget(window=128_000, reply_cap=1024).max_tokens(messages) == 1024


def test_the_estimate_only_goes_down():
    budget = TokenBudget(window=2048, reply_cap=1024, chars_per_token=3.0)
    messages = [{"role": "user", "content": "y" * 2400}]
    budget.observe(messages, prompt_tokens=1000 + 12)  # 2.4 characters per token
    assert budget.chars_per_token == pytest.approx(2.4)
    budget.observe(messages, prompt_tokens=500)  # a server counting fewer tokens does not raise it
    assert budget.chars_per_token == pytest.approx(2.4)

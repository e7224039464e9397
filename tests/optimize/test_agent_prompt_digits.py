"""The agent's token estimate holds on the number-heavy text of its prompts: common tokenizers (SmolLM2's,
Llama 2's) take every digit as a token of its own, so a leaderboard runs at ~2 characters per token, not the
3 once assumed, and the first request of a search overflowed a 2,048-token window. A re-ask keeps room for
the JSON the schema asks for (it got ~200 tokens)."""
from __future__ import annotations

import asyncio
import re

import pytest

from rolegraph.chat.types import Completion, Usage
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.models.endpoint import EndpointInfo
from rolegraph.optimize.agent_prompt import TokenBudget, estimate_tokens, step_prompt, system_prompt
from rolegraph.optimize.feedback import StepContext
from rolegraph.optimize.llm_agent import LLMFeedbackAgent
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import SearchSpace

from .conftest import SIM_MODELS

WINDOW = 2048
LEADERBOARD = "\n".join(
    f"- {k} x llama-3.2-{k % 3 + 1}b -> fuser: objective 0.{(k * 37) % 1000:03d} on {4 + k % 5} items, "
    f"$0.000{k % 97:02d}, {k % 13}.{k % 7}1 s"
    for k in range(120)
)
SMOLLM2_OVER = 1192 / (1101 + 14)
"""How many more tokens SmolLM2 counted than `_counted` on the fit test's prompt (its /tokenize)."""
SCHEMA_REPLY_TOKENS = 300
"""A reply in the schema's JSON takes ~150-300 tokens (SmolLM2's ran 135-145 with a one-line summary): a re-ask
must leave at least this much."""


def _digits_and_marks(text: str) -> int:
    """Tokens a tokenizer that splits digits takes at least: one per digit and one per punctuation mark."""
    return sum(1 for c in text if c.isdigit() or not (c.isalnum() or c.isspace()))


def _counted(messages: list[dict]) -> int:
    """A count of a prompt's tokens at or below SmolLM2's: a token per digit, punctuation mark and run of
    letters, and 7 template tokens a message (on the prompt of the fit test below: 1,101 + 14 against the
    1,192 SmolLM2's /tokenize counted)."""
    return sum(_digits_and_marks(m["content"]) + len(re.findall(r"[A-Za-z]+", m["content"])) + 7 for m in messages)


def test_the_estimate_counts_every_digit_and_mark_of_a_leaderboard():
    floor = _digits_and_marks(LEADERBOARD)
    assert len(LEADERBOARD) / 3.0 < floor  # the old ratio fell short of the digits alone
    assert estimate_tokens(LEADERBOARD) >= floor
    assert TokenBudget(WINDOW, 1024).text_tokens(LEADERBOARD) >= floor


def test_prose_is_not_counted_a_token_a_character():
    prose = "The prompt fits the agent model's context window and the reply gets what is left. " * 20
    assert estimate_tokens(prose) < len(prose) / 3.0


def _graph(k: int) -> GraphSpec:
    return GraphSpec(name=f"g{k}", nodes=[NodeSpec(id="n0", role="solver", model=SIM_MODELS[k % 3]),
                                          NodeSpec(id="out", role="fuser", model=SIM_MODELS[(k // 3) % 3])],
                     edges=[("n0", "out")], output="out")


def _ctx(pool, graphs: int = 200) -> StepContext:
    space = SearchSpace(pool=pool, models=SIM_MODELS[:3], budget=18, max_nodes=5)
    scored = [(_graph(k), 0.9 - k / (2 * graphs), 4 + k % 5) for k in range(graphs)]
    return StepContext(space=space, pg=ProbabilisticGraph(space), iteration=3, evaluations=[],
                       best_graph=scored[0][0], best_objective=scored[0][1], best_n=scored[0][2], task="gsm",
                       scored=scored)


def test_a_long_leaderboard_fits_a_small_window_by_the_digit_count(pool):
    budget = TokenBudget(WINDOW, 1024)
    system = system_prompt(budget)
    user = budget.fit_user(lambda chars: step_prompt(_ctx(pool), chars), system)
    assert "objective 0.900" in user and "more graphs scored lower" in user
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    left = budget.max_tokens(messages)
    assert left >= SCHEMA_REPLY_TOKENS
    assert _counted(messages) + left <= WINDOW  # the old estimate asked for 1,719+ + 537 tokens here


CUT_REPLY = '{"gradient": {"summary": "' + "n0: accuracy 0.688, objective 0.688, cost 5.98, 5.29 s; " * 8
"""A reply cut short (invalid JSON), number-heavy like SmolLM2's: the re-ask echoes 300 characters of it."""


class _Rejected:
    """Answers with `CUT_REPLY`, then with a valid update, counting the prompt as a server would
    (`_counted`); records max_tokens."""

    model_id = "test/agent"

    def __init__(self):
        self.max_tokens: list[int] = []

    async def complete(self, messages, **kwargs):
        self.max_tokens.append(kwargs["max_tokens"])
        text = CUT_REPLY if len(self.max_tokens) == 1 else (
            '{"gradient": {"summary": "wider"}, "update": {"presence": {"n0": 0.9, "n1": 0.9}}}')
        return Completion(text=text, model_id=self.model_id, usage=Usage(input_tokens=int(_counted(messages) * SMOLLM2_OVER)))


def test_a_re_ask_keeps_room_for_the_schemas_json(pool):
    model = _Rejected()
    agent = LLMFeedbackAgent(model, endpoint=EndpointInfo(WINDOW, "pool entry", "json_schema"))
    fb = asyncio.run(agent.step(_ctx(pool)))
    assert fb.fallback is None and fb.attempts == 2
    first, reask = model.max_tokens
    assert reask >= SCHEMA_REPLY_TOKENS, model.max_tokens
    assert first >= reask


@pytest.mark.parametrize("window", [1500, 4096, 32768])
def test_the_first_request_fits_other_windows(pool, window):
    budget = TokenBudget(window, 1024)
    system = system_prompt(budget)
    user = budget.fit_user(lambda chars: step_prompt(_ctx(pool), chars), system)
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    assert _counted(messages) + budget.max_tokens(messages) <= window

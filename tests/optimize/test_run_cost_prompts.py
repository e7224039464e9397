"""The estimate before a real search prices each node's prompt at what the node sends: its role's own system prompt
(at the task's answer kind), the search's own questions, the user message's headings, its predecessors' capped
replies and the chat template's tokens. It priced every prompt at the task family's profile (256 tokens for math,
whatever the role), so on real SmolLM2, whose prompts of short roles were 85-214 tokens, it said 1.8-2.9x what the
search paid. The expected figures are worked out here from the role text and the questions as a node sends them
(the user message written out as `transcript.render_input` lays it out), counted with the project's token counter."""

from __future__ import annotations

import pytest

from rolegraph.agents.registry import RoleRegistry
from rolegraph.chat.spec import ModelSpec
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.items import Item
from rolegraph.models.pool import ModelPool
from rolegraph.models.tokens import text_tokens
from rolegraph.optimize import run_cost as costs
from rolegraph.optimize.estimate import estimate_search
from rolegraph.optimize.space import SearchSpace

from .helpers import tiny_config

PRICE_IN, PRICE_OUT = 1.0, 4.0  # dollars per million tokens
TEMPLATE = 14  # SmolLM2's chat template around a system and a user message, as llama.cpp's server counted it
BRIEF, CHECK = 40, 24  # the two roles' max_tokens: both below the math profile's 512-token reply
BRIEF_TEXT = "Solve the problem briefly. Show only the key steps."
CHECK_TEXT = "Check the answer above and give the one you trust."
QUESTIONS = ("What is 12 plus 30?", "Tom has 3 apples and buys 5 more bags of 4 apples. How many apples now?")


def _registry() -> RoleRegistry:
    registry = RoleRegistry.default()
    registry.register("brief", BRIEF_TEXT, answers=True, max_tokens=BRIEF)
    registry.register("check", CHECK_TEXT, answers=True, max_tokens=CHECK)
    return registry


def _space(roles: tuple[str, ...] = ("brief", "check"), max_nodes: int = 2) -> SearchSpace:
    model = ModelSpec(id="my/model", backend="openai", base_url="http://127.0.0.1:9/v1", price_in=PRICE_IN,
                      price_out=PRICE_OUT, params_b=1.24, layers=16, hidden=2048, max_concurrency=2)
    return SearchSpace(pool=ModelPool([model]), models=("my/model",), roles=roles, max_nodes=max_nodes, budget=None,
                       registry=_registry())


def _items() -> list[Item]:
    return [Item(id=f"q{i}", question=q, gold="0", family="math") for i, q in enumerate(QUESTIONS)]


def _system(role: str, text: str, kind: str = "math") -> str:
    """The system prompt as a node of a registered role sends it: its role line, its text, the answer format."""
    return f"Role: {role}.\n{text}\n\n{RoleRegistry.default().answer_format(kind).strip()}\n"


def _user(question: str, inputs: list[tuple[str, str, str]]) -> str:
    """The user message: the question, then each input under its heading (node id, role, text)."""
    text = f"Question:\n{question}\n"
    if inputs:
        text += f"\nInputs from {len(inputs)} predecessor(s):\n"
        text += "".join(f"\n=== Input {i} from node `{n}` ({r}) ===\n{t}\n" for i, (n, r, t) in enumerate(inputs, 1))
    return text


def test_a_nodes_prompt_is_its_roles_text_and_the_questions_mean_not_the_family_profile():
    """One node of the short role: its prompt is the template, the role's system prompt and the mean question (the
    high figure: the longest), well under the math profile's 256 tokens."""
    q_short, q_long = (text_tokens(q) for q in QUESTIONS)  # 10 and 23 tokens
    frame = text_tokens(_user("", []))  # "Question:" and its line ends: 4 tokens
    system = text_tokens(_system("brief", BRIEF_TEXT))
    typical, high = costs.task_prompts(_space(("brief",), 1), "math", _items())
    graph = GraphSpec(name="one", nodes=[NodeSpec(id="a", role="brief", model="my/model")], output="a")
    mean_prompt = TEMPLATE + system + frame + round((q_short + q_long) / 2)
    longest_prompt = TEMPLATE + system + frame + q_long
    assert mean_prompt < 256 - 100  # the family profile priced it at 256
    cost = costs.run_cost(_space(("brief",), 1), graph, set(), typical)
    assert cost.tokens == mean_prompt + BRIEF
    assert cost.dollars == pytest.approx((mean_prompt * PRICE_IN + BRIEF * PRICE_OUT) / 1e6)
    assert costs.run_cost(_space(("brief",), 1), graph, set(), high).tokens == longest_prompt + BRIEF


def test_the_printed_estimate_prices_every_call_at_what_it_sends():
    """A one-node space of the short role, its items known: every item run is one call of the prompt worked out
    by hand and the role's capped reply, in the typical figure (mean question) and the high one (longest)."""
    space = _space(("brief",), 1)
    sizes = {"train": 20, "validation": 10, "test": 10}
    estimate = estimate_search(space, tiny_config(iterations=2), sizes, questions=_items())  # a math task
    runs = estimate.item_runs
    system = text_tokens(_system("brief", BRIEF_TEXT))
    q_short, q_long = (text_tokens(q) for q in QUESTIONS)
    typical = TEMPLATE + system + text_tokens(_user("", [])) + round((q_short + q_long) / 2)
    assert estimate.typical.calls == runs
    assert estimate.typical.tokens == runs * (typical + BRIEF)
    assert estimate.typical.dollars == pytest.approx(runs * (typical * PRICE_IN + BRIEF * PRICE_OUT) / 1e6)
    longest = typical - round((q_short + q_long) / 2) + q_long
    assert estimate.most.tokens == estimate.most.calls * (longest + BRIEF)  # routing's extra graphs: more calls


def test_a_reader_is_priced_with_its_predecessors_reply_under_its_heading():
    """brief -> check: check's prompt holds its own role's text, the question, the heading of brief's input and
    brief's reply at its cap; each role's own system prompt, not one profile length for both."""
    space = _space()
    graph = GraphSpec(name="chain", nodes=[NodeSpec(id="a", role="brief", model="my/model"),
                                           NodeSpec(id="out", role="check", model="my/model")],
                      edges=[("a", "out")], output="out")
    question = text_tokens(QUESTIONS[0])
    prompts = costs.task_prompts(space, "math", _items()[:1])[0]
    first = TEMPLATE + text_tokens(_system("brief", BRIEF_TEXT)) + text_tokens(_user(QUESTIONS[0], []))
    second = (TEMPLATE + text_tokens(_system("check", CHECK_TEXT)) + question
              + text_tokens(_user("", [("a", "brief", "")])) + BRIEF)
    cost = costs.run_cost(space, graph, set(), prompts)
    assert cost.calls == 2
    assert cost.tokens == (first + BRIEF) + (second + CHECK)
    assert cost.dollars == pytest.approx(((first + second) * PRICE_IN + (BRIEF + CHECK) * PRICE_OUT) / 1e6)


def test_the_roles_prompts_carry_the_tasks_answer_format():
    """An mmlu task's nodes send the mmlu answer format, not the math one: the prompt is priced with the task's."""
    space = _space(("brief",), 1)
    graph = GraphSpec(name="one", nodes=[NodeSpec(id="a", role="brief", model="my/model")], output="a")
    items = _items()[:1]
    by_kind = {kind: costs.run_cost(space, graph, set(), costs.task_prompts(space, kind, items)[0]).tokens
               for kind in ("math", "mmlu")}
    math_format, mmlu_format = (text_tokens(_system("brief", BRIEF_TEXT, kind)) for kind in ("math", "mmlu"))
    assert math_format != mmlu_format
    assert by_kind["mmlu"] - by_kind["math"] == mmlu_format - math_format

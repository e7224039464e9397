"""A reply cut where its prompt and itself filled the model's context window is not a reply cut at max_tokens:
the server says "length" for both, and "raise max_tokens" cannot help the first. Before sending, a prompt whose
estimate and max_tokens exceed the window (trimming cannot make room) is said once per model; what is sent is
unchanged. Found on llama.cpp's SmolLM2 (2,048 tokens): prompt 1842 + completion 206 = 2048 with max_tokens 400
was printed as `replies cut at max_tokens ... raise the node's max_tokens param`."""
from __future__ import annotations

import asyncio
import warnings
from types import SimpleNamespace

import pytest

from rolegraph.agents.agent import run_agent
from rolegraph.agents.registry import RoleRegistry
from rolegraph.agents.trim import WindowCutWarning, WindowOverflowWarning
from rolegraph.chat.types import Completion, Usage
from rolegraph.graphs.runtime import run_graph
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings

REG = RoleRegistry.default()
WINDOW = 2048
MAX_TOKENS = 400
S8 = "sim/llama-3.1-8b"
LONG = "Item 0. " + "The ledger lists many entries. " * 312 + "Now write a long story, then say: the answer is 7."
"""Like the probe's question (~1,840 tokens, so 400 more do not fit 2,048), longer: with the solver's system prompt
2,036 tokens for SmolLM2 (measured on llama.cpp's server: 277 repeats gave 1,826, each repeat 6 more), so any reply
of 12 tokens or more fills the window. At ~1,840 the model once ended its story by itself, 'stop', short of it."""


class Scripted:
    """The runtime's caller as an agent sees it: bound to a plan (a pool spec with a window, the node's max_tokens),
    answering with one reply of the given usage and finish reason; records the max_tokens it would send."""

    def __init__(self, tokens_in: int, tokens_out: int, finish: str = "length"):
        self.plan = SimpleNamespace(spec=SimpleNamespace(id="llc/smol", context_window=WINDOW), max_tokens=MAX_TOKENS)
        self.reply = Completion(text="A sailor sailed", usage=Usage(input_tokens=tokens_in, output_tokens=tokens_out),
                                model_id="llc/smol", finish_reason=finish)
        self.sent = 0

    async def __call__(self, messages, tools=None):
        self.sent += 1
        return self.reply


def _solve(caller, question: str = "What is 3 + 4?"):
    return asyncio.run(run_agent(REG.get("solver"), REG.system_prompt("solver", "math"), question, [], caller,
                                 kind="math", toolbox=None, tools=(), native=False))


def _own(caught, category) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, category)]


def test_a_reply_that_filled_the_window_is_said_to_be_cut_by_it():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _solve(Scripted(1842, 206))
    cut = _own(caught, WindowCutWarning)
    assert len(cut) == 1 and "context window of 2048 tokens" in cut[0] and "llc/smol" in cut[0]
    assert "will not help" in cut[0] and "larger context_window" in cut[0]
    assert result.output.text == "A sailor sailed"  # the reply itself as it came


def test_a_reply_cut_at_max_tokens_or_ended_is_not_said_to_be_cut_by_the_window():
    for caller in (Scripted(100, MAX_TOKENS), Scripted(1842, 206, finish="stop")):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _solve(caller)
        assert _own(caught, WindowCutWarning) == []


def test_a_prompt_that_cannot_fit_with_its_max_tokens_is_warned_before_it_is_sent():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _solve(Scripted(1842, 206), LONG)
        short = len(caught)
        _solve(Scripted(30, 5, finish="stop"))
    over = _own(caught[:short], WindowOverflowWarning)
    assert len(over) == 1 and "llc/smol's context window of 2048 tokens may cut its replies" in over[0]
    assert _own(caught[short:], WindowOverflowWarning) == []  # a short question and 400 tokens fit 2,048


def _graph() -> GraphSpec:
    """Two solvers of the same model, so the warning is said once per model, not per node or call."""
    return GraphSpec.model_validate({
        "name": "two", "output": "b",
        "nodes": [{"id": "a", "role": "solver", "model": S8, "params": {"max_tokens": MAX_TOKENS}},
                  {"id": "b", "role": "solver", "model": S8, "params": {"max_tokens": MAX_TOKENS}}],
        "edges": [["a", "b"]]})


def _run_sim(tmp_path, window: int | None):
    pool = ModelPool.builtin()
    if window is not None:
        pool = ModelPool([s.model_copy(update={"context_window": window}) if s.id == S8 else s for s in pool])
    item = Item(id="q1", question=LONG, gold="7", family="math")
    hub = ModelHub(pool, Settings(home=tmp_path, cache=False))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = asyncio.run(run_graph(_graph(), item, hub))
    return result, caught


def test_on_the_sim_pool_a_small_window_warns_once_per_model_and_changes_nothing_sent(tmp_path):
    small, caught = _run_sim(tmp_path / "small", WINDOW)
    texts = set(_own(caught, WindowOverflowWarning))
    assert len(texts) == 1 and f"{S8}'s context window of {WINDOW} tokens" in texts.pop()
    whole, caught_whole = _run_sim(tmp_path / "whole", None)  # the sim's 131,072 tokens
    assert _own(caught_whole, WindowOverflowWarning) == []
    # what was sent is unchanged: the same answers and tokens as with room to spare (no max_tokens shortened)
    assert [(n.answer, n.tokens_in, n.tokens_out) for n in small.nodes] == [
        (n.answer, n.tokens_in, n.tokens_out) for n in whole.nodes]


@pytest.mark.parametrize("windowed", [True])
def test_on_llamacpp_a_reply_cut_by_the_window_is_said_so(llamacpp, tmp_path, windowed):
    """The probe's case on the real server: warned before sending, the reply cut short of max_tokens at the window,
    and said so; the request's max_tokens is the node's own."""
    from rolegraph.models.openai_backend import OpenAIChatModel

    assert llamacpp.n_ctx == WINDOW
    model = OpenAIChatModel(llamacpp.spec(), Settings(home=tmp_path))
    replies: list[Completion] = []

    class Caller:
        plan = SimpleNamespace(spec=model.spec, max_tokens=MAX_TOKENS)

        async def __call__(self, messages, tools=None):
            replies.append(await model.complete(messages, max_tokens=MAX_TOKENS, temperature=0.0))
            return replies[-1]

    async def main():
        try:
            return await run_agent(REG.get("solver"), REG.system_prompt("solver", "math"), LONG, [], Caller(),
                                   kind="math", toolbox=None, tools=(), native=False)
        finally:
            await model.aclose()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(main())
    assert _own(caught, WindowOverflowWarning)
    (reply,) = replies
    assert reply.finish_reason == "length" and reply.usage.output_tokens < MAX_TOKENS
    assert reply.usage.input_tokens + reply.usage.output_tokens >= WINDOW
    assert _own(caught, WindowCutWarning)

"""Each choice of an `n` reply keeps its own output tokens, even where the server's total counts one choice only
(llama.cpp's server, two slots, through the real `openai` client), and the prompt is counted once for the choices."""
from __future__ import annotations

import asyncio

import httpx

from rolegraph.chat.spec import ModelSpec
from rolegraph.models.openai_backend import OpenAIChatModel
from rolegraph.models.openai_replies import FIRST_CHOICE, SUMMED, choice_outputs, n_completions

from tests.models.test_coalesce_limits import FAST, llamacpp2  # noqa: F401 - the two-slot llama.cpp fixture

LONG = [{"role": "user", "content": "Write a long story about a dragon who learns to paint."}]
YES_NO = [{"role": "user", "content": "Reply with one word: yes or no?"}]


def test_choices_cut_at_max_tokens_each_count_max_tokens(llamacpp2, settings):  # noqa: F811
    """A story cannot end in 4 tokens: both choices stop at the limit, so each holds 4 tokens (the server's usage
    says 4 for the two)."""
    model = OpenAIChatModel(llamacpp2.spec(), settings, timeout_s=120.0, **FAST)

    async def go():
        outs = await model.complete_n(LONG, samples=[1, 2], temperature=0.8, max_tokens=4, seed=3)
        await model.aclose()
        return outs

    outs = asyncio.run(go())
    assert model.n_support is True  # one request with n=2
    assert [c.finish_reason for c in outs] == ["length", "length"]
    assert [c.usage.output_tokens for c in outs] == [4, 4]


def test_choices_are_counted_from_their_logprobs(llamacpp2):  # noqa: F811
    """With logprobs asked, each choice has one entry per token: its count, not a share of llama.cpp's total (the
    first choice's count alone)."""
    body = {"model": "smollm2", "messages": YES_NO, "n": 2, "max_tokens": 12, "temperature": 1.0, "seed": 0,
            "logprobs": True}
    data = httpx.post(f"{llamacpp2.base_url}/chat/completions", json=body, timeout=120.0).json()
    per_choice = [len(c["logprobs"]["content"]) for c in sorted(data["choices"], key=lambda c: c["index"])]
    outs = n_completions(llamacpp2.spec(), data, YES_NO, 0.0, 2, max_tokens=12)
    assert [c.usage.output_tokens for c in outs] == per_choice
    assert sum(per_choice) > data["usage"]["completion_tokens"]  # the server's total held one choice
    prompt = data["usage"]["prompt_tokens"]  # read once for both choices: shared, not charged twice
    assert sum(c.usage.input_tokens for c in outs) == prompt


def test_the_rule_decides_what_a_total_holds():
    """Two stopped choices of 40 and 20 letters (11 and 6 tokens by their shape, the end token included): a summed
    total is shared out in proportion to them, even when below them (no count among them is exact); a first-choice
    total is choice 0's exactly, the other choice estimated; no total, the estimates."""
    choices = [{"index": i, "finish_reason": "stop", "message": {"role": "assistant", "content": "x" * chars}}
               for i, chars in enumerate([40, 20])]
    assert choice_outputs({}, choices, 34, None, SUMMED) == [22, 12]
    assert choice_outputs({}, choices, 10, None, SUMMED) == [7, 3]
    assert choice_outputs({}, choices, 10, None, FIRST_CHOICE) == [10, 6]
    assert choice_outputs({}, choices, None, None, FIRST_CHOICE) == [11, 6]
    spec = ModelSpec(id="rec/m", backend="openai", base_url="http://127.0.0.1:9/v1")
    data = {"choices": choices, "usage": {"prompt_tokens": 9, "completion_tokens": 34}}
    for rule, outs in [(SUMMED, [22, 12]), (FIRST_CHOICE, [34, 6])]:
        assert [c.usage.model_dump() for c in n_completions(spec, data, YES_NO, 0.0, 2, rule=rule)] == [
            {"input_tokens": 5, "output_tokens": outs[0]}, {"input_tokens": 4, "output_tokens": outs[1]}]

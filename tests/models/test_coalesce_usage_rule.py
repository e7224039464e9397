"""What the `usage` of an `n` reply counts is learnt once per endpoint, not guessed per reply: llama.cpp's server
reports the first choice's usage alone (choice 0 then gets its exact count, the others an estimate by their shape),
OpenAI-style servers the sum (shared out as before); the prompt is counted once for the k choices either way.
Checked against llama.cpp's own server (xllamacpp, two slots; counts from its /tokenize) and loopback fakes."""
from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.models.openai_backend import OpenAIChatModel
from rolegraph.models.openai_replies import FIRST_CHOICE, SUMMED, n_completions, usage_rule
from rolegraph.models.openai_sampling import _usage_probe
from rolegraph.sim.server import ServerThread
from tests.models.fake_servers import RecordingChat
from tests.models.test_coalesce_limits import FAST, llamacpp2  # noqa: F401 - the two-slot llama.cpp fixture

SPEC = ModelSpec(id="rec/m", backend="openai", base_url="http://127.0.0.1:9/v1", price_in=1.0, price_out=2.0)
DIGITS = [{"role": "user", "content": "Write the numbers from 100 to 160, separated by commas."}]
ARITH = [{"role": "user", "content": "What is 347 * 29 + 1184? Show the arithmetic in one line."}]
"""SmolLM2 answers it in 10-50 tokens, mostly digits and signs, and mostly stops before 64 tokens."""
ESTIMATE_LOW, ESTIMATE_HIGH = 0.9, 1.6
"""How far the shape estimate of a SmolLM2 reply may be from its true count (tokens.py states 1.00-1.48)."""


def _choice(i: int, text: str, finish: str) -> dict[str, Any]:
    return {"index": i, "finish_reason": finish, "message": {"role": "assistant", "content": text}}


def _reply(prompt: int, completion: int, *choices: dict[str, Any]) -> dict[str, Any]:
    return {"choices": list(choices),
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}}


# --- the reading of one reply -------------------------------------------------------------------------------------

def test_the_probed_llamacpp_replies_are_read_by_the_rule():
    """Two replies the probe recorded (llama.cpp, max_tokens 96). Choice 0 keeps the server's exact count (12, not
    `len(text)//4` = 3), a choice cut at max_tokens is 96, and the prompt is counted once: 81 + 81 = 162."""
    reply = _reply(162, 12, _choice(0, "81 + -78 = 291", "stop"), _choice(1, "To solve " * 40, "length"))
    assert usage_rule(reply, 96) == FIRST_CHOICE  # 12 < 96 beside a choice cut at 96: not a sum
    outs = n_completions(SPEC, reply, [], 0.0, 2, max_tokens=96, rule=FIRST_CHOICE)
    assert [(c.usage.input_tokens, c.usage.output_tokens) for c in outs] == [(81, 12), (81, 96)]
    assert sum(c.cost_usd for c in outs) == pytest.approx((162 * 1.0 + 108 * 2.0) / 1e6)


def test_the_same_usage_is_billed_alike_whatever_the_text_length():
    """161 in / 86 out with two stopped choices: read by the endpoint's rule, choice 0 is 86 and the prompt shared,
    whether the choices' text is short or long (a text-length guess once read the short one as a sum: 81/44, 80/42,
    and 53 tokens of choice 1 went missing)."""
    short = "100 + 825 * 114 = 1111"
    for text in (short, short * 5):
        reply = _reply(161, 86, _choice(0, text, "stop"), _choice(1, "-413 + (-825 * 114)", "stop"))
        assert usage_rule(reply, 96) is None  # both readings fit: the rule must come from the endpoint
        outs = n_completions(SPEC, reply, [], 0.0, 2, max_tokens=96, rule=FIRST_CHOICE)
        assert [c.usage.input_tokens for c in outs] == [81, 80]
        assert outs[0].usage.output_tokens == 86
        assert outs[1].usage.output_tokens >= 17  # 16 digits and signs, the end token: never below them


def test_other_choices_are_estimated_by_shape_and_capped_at_max_tokens():
    """Digits count one a token (SmolLM2 splits them so): "1, 2, 3" is 7 tokens, plus the end token of a choice
    that stopped; an estimate never exceeds max_tokens, and a choice cut there is max_tokens exactly."""
    reply = _reply(10, 5, _choice(0, "a", "stop"), _choice(1, "1, 2, 3", "stop"), _choice(2, "9" * 50, "stop"),
                   _choice(3, "x", "length"))
    outs = n_completions(SPEC, reply, [], 0.0, 4, max_tokens=20, rule=FIRST_CHOICE)
    assert [c.usage.output_tokens for c in outs] == [5, 8, 20, 20]


@pytest.mark.parametrize("completion, finishes, max_tokens, want", [
    (2, ["length", "length"], 1, SUMMED),  # the usage probe: 2 x max_tokens
    (1, ["length", "length"], 1, FIRST_CHOICE),  # max_tokens: one choice's
    (12, ["stop", "length"], 96, FIRST_CHOICE),  # below max_tokens beside a choice cut there
    (130, ["stop", "stop"], 96, SUMMED),  # above max_tokens: no one choice holds that
    (86, ["stop", "stop"], 96, None),  # fits both
    (0, ["length", "length"], 1, None),  # fits neither
])
def test_what_a_reply_proves(completion, finishes, max_tokens, want):
    reply = _reply(9, completion, *(_choice(i, "word", f) for i, f in enumerate(finishes)))
    assert usage_rule(reply, max_tokens) == want


def test_serve_sims_counts_prove_a_sum():
    reply = _reply(9, 30, _choice(0, "a", "stop"), _choice(1, "b", "stop")) | {"rolegraph": {"choice_tokens": [20, 10]}}
    assert usage_rule(reply, 512) == SUMMED


# --- learnt once per endpoint, through loopback servers ----------------------------------------------------------

class CountingServer(RecordingChat):
    """An OpenAI-shaped server taking `n` whose choices stop after TRUE tokens each (text that proves neither rule):
    `style="summed"` reports their sum, `"first"` choice 0's, `"neither"` a usage no rule fits. A request for one
    token cuts every choice there. Bodies are recorded."""

    TRUE = [9, 4]

    def __init__(self, style: str):
        super().__init__()
        self.style = style

    async def reply(self, body: dict) -> Any:
        n = body.get("n", 1)
        if body["max_tokens"] == 1:
            counts, choices = [1] * n, [_choice(i, "1", "length") for i in range(n)]
        else:
            counts = self.TRUE[:n]
            choices = [_choice(i, "word " * (c - 1), "stop") for i, c in enumerate(counts)]
        completion = {"summed": sum(counts), "first": counts[0], "neither": 0}[self.style]
        return {"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": choices,
                "usage": {"prompt_tokens": 30, "completion_tokens": completion, "total_tokens": 30 + completion}}


def _twice(style: str, settings) -> tuple[CountingServer, OpenAIChatModel, list]:
    server = CountingServer(style)
    with ServerThread(server.app) as srv:
        spec = ModelSpec(id="rec/m", backend="openai", base_url=srv.base_url, model="m", price_in=1.0, price_out=2.0)
        model = OpenAIChatModel(spec, settings, timeout_s=5.0, **FAST)

        async def go():
            try:
                first = await model.complete_n(DIGITS, samples=[1, 2], temperature=0.7, max_tokens=64)
                return [first, await model.complete_n(DIGITS, samples=[3, 4], temperature=0.7, max_tokens=64)]
            finally:
                await model.aclose()

        outs = asyncio.run(go())
    return server, model, outs


@pytest.mark.parametrize("style, rule", [("summed", SUMMED), ("first", FIRST_CHOICE)])
def test_one_usage_probe_per_endpoint_decides_the_rule(settings, style, rule):
    """The first reply proves nothing, so one tiny probe (n=2, one token each) is sent, once; both replies are then
    read by the rule it taught: a sum keeps its exact total (13), a first-choice usage gives choice 0 exactly 9.
    The probe is billed (its prompt, 30, and its two one-token choices) to the first sample of the call that sent
    it, so a search's paid dollars and FLOPs hold every token the server was asked for."""
    server, model, outs = _twice(style, settings)
    assert [(b.get("n"), b["max_tokens"]) for b in server.bodies] == [(2, 64), (2, 1), (2, 64)]
    assert model.n_usage == rule
    for pair in outs:  # dollars as the tokens (price 1 in, 2 out per million): the probe's in the first sample's
        assert [c.cost_usd for c in pair] == pytest.approx([(c.usage.input_tokens + 2 * c.usage.output_tokens) / 1e6
                                                            for c in pair])
    for k, pair in enumerate(outs):
        probe_in, probe_out = (30, 2) if k == 0 else (0, 0)
        assert sum(c.usage.input_tokens for c in pair) == 30 + probe_in  # the prompt once (and the probe's)
        outputs = [c.usage.output_tokens for c in pair]
        outputs[0] -= probe_out
        if rule == SUMMED:
            assert sum(outputs) == sum(CountingServer.TRUE)
        else:
            assert outputs[0] == CountingServer.TRUE[0] and outputs[1] >= CountingServer.TRUE[1]


def test_a_usage_no_rule_fits_is_read_as_one_choices_and_said(settings, caplog):
    with caplog.at_level(logging.WARNING):
        server, model, outs = _twice("neither", settings)
    assert len(server.bodies) == 3 and model.n_usage == FIRST_CHOICE
    said = [r.getMessage() for r in caplog.records if "could not tell" in r.getMessage()]
    assert len(said) == 1 and "rec/m" in said[0]


def test_a_reply_that_proves_its_rule_needs_no_probe(settings):
    """A choice cut at max_tokens beside a total below it: one choice's usage, known from the reply itself."""

    class Cut(CountingServer):
        async def reply(self, body: dict) -> Any:
            choices = [_choice(0, "7", "stop"), _choice(1, "1, 2, 3, 4", "length")]
            return {"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": choices,
                    "usage": {"prompt_tokens": 30, "completion_tokens": 2, "total_tokens": 32}}

    server = Cut("first")
    with ServerThread(server.app) as srv:
        spec = ModelSpec(id="rec/m", backend="openai", base_url=srv.base_url, model="m")
        model = OpenAIChatModel(spec, settings, timeout_s=5.0, **FAST)
        outs = asyncio.run(model.complete_n(DIGITS, samples=[1, 2], max_tokens=16))
    assert len(server.bodies) == 1 and model.n_usage == FIRST_CHOICE
    assert [c.usage.output_tokens for c in outs] == [2, 16]


# --- llama.cpp's own server --------------------------------------------------------------------------------------

def _true_tokens(root: str, text: str, finish: str | None) -> int:
    """A choice's tokens by llama.cpp's own tokenizer, plus the end token a stopped choice sampled (llama.cpp counts
    it: its usage for a stopped choice is one more than /tokenize of the text)."""
    ids = httpx.post(f"{root}/tokenize", json={"content": text}, timeout=60.0).json()["tokens"]
    return len(ids) + (finish == "stop")


def test_llamacpps_usage_probe_says_first_choice(llamacpp2, settings):  # noqa: F811
    model = OpenAIChatModel(llamacpp2.spec(), settings, timeout_s=120.0, **FAST)

    async def go():
        try:
            return await _usage_probe(model, {"temperature": 0.0, "seed": 0})
        finally:
            await model.aclose()

    rule, billed = asyncio.run(go())
    assert rule == FIRST_CHOICE and billed.output_tokens == 2 and billed.input_tokens > 0


def test_llamacpp_choices_count_as_its_tokenizer_does(llamacpp2, settings):  # noqa: F811
    """Digit-heavy replies (where `len(text)//4` counts a third to a half of the tokens): choice 0's count is exactly
    its tokens, a later choice its tokens within the estimate's tolerance (exact when cut at max_tokens), and k nodes
    are charged one prompt and at least every token made."""
    model = OpenAIChatModel(llamacpp2.spec(price_in=1.0, price_out=1.0), settings, timeout_s=300.0, **FAST)

    async def go():
        try:
            alone = await model.complete(ARITH, max_tokens=1)
            pairs = [await model.complete_n(ARITH, samples=[2 * s + 1, 2 * s + 2], temperature=0.8, max_tokens=64,
                                            seed=s) for s in range(3)]
            return alone.usage.input_tokens, pairs
        finally:
            await model.aclose()

    prompt, pairs = asyncio.run(go())
    assert model.n_usage == FIRST_CHOICE
    assert any(pair[0].finish_reason == "stop" for pair in pairs)  # not only choices cut at max_tokens (exact anyway)
    for k, pair in enumerate(pairs):
        true = [_true_tokens(llamacpp2.root, c.text, c.finish_reason) for c in pair]
        counted = [c.usage.output_tokens for c in pair]
        probed = k == 0 and counted[0] == true[0] + 2  # the usage probe's two one-token choices, billed here
        assert counted[0] == true[0] + (2 if probed else 0)
        if pair[1].finish_reason == "length":
            assert counted[1] == true[1] == 64
        else:
            assert ESTIMATE_LOW * true[1] <= counted[1] <= ESTIMATE_HIGH * true[1]
        inputs = sum(c.usage.input_tokens for c in pair)
        assert inputs > prompt if probed else inputs == prompt  # read once for both choices (and the probe's)
        assert sum(c.usage.input_tokens + c.usage.output_tokens for c in pair) >= prompt + sum(true)

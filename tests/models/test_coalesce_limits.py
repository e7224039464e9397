"""How large an `n` an endpoint takes is learnt as a limit, not yes/no, and learnt once: llama.cpp's own server
(xllamacpp, two slots) takes n=2 and refuses n=3, and the samples still all come back; concurrent callers
against a loopback server that refuses large `n` wait for the first probe instead of each sending one."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.responses import JSONResponse

from rolegraph.chat.spec import ModelSpec
from rolegraph.models.openai_backend import OpenAIChatModel
from rolegraph.models.openai_sampling import STATED_LIMIT
from rolegraph.sim.server import ServerThread
from tests.models.fake_servers import RecordingChat

FAST = {"backoff_base_s": 0.001, "backoff_cap_s": 0.01}
COLOUR = [{"role": "user", "content": "Name a colour."}]
SLOTS = 2


@pytest.fixture(scope="module")
def llamacpp2():
    """llama.cpp's server with two slots (so it takes n up to 2); starting one takes about a second."""
    from rolegraph.errors import EngineMissingError
    from rolegraph.models.llamacpp_server import LlamaCppServer

    try:
        server = LlamaCppServer(parallel=SLOTS, threads=1, n_ctx=512)
    except EngineMissingError as exc:
        pytest.skip(str(exc))
    yield server
    server.close()


def _said(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "coalesced samples go" in r.getMessage()]


def test_llamacpp_refusing_a_larger_n_after_taking_a_smaller_one_still_answers(llamacpp2, settings, caplog):
    model = OpenAIChatModel(llamacpp2.spec(), settings, timeout_s=120.0, **FAST)
    sampling = {"temperature": 0.7, "max_tokens": 2, "seed": 1}

    async def go():
        two = await model.complete_n(COLOUR, samples=[1, 2], **sampling)
        learnt = model.n_support
        three = await model.complete_n(COLOUR, samples=[3, 4, 5], **sampling)  # n=3 is refused: 2 + 1
        again = await model.complete_n(COLOUR, samples=[6, 7, 8], **sampling)
        await model.aclose()
        return two, learnt, three, again

    two, learnt, three, again = asyncio.run(go())
    assert learnt is True  # n=2 came back whole
    assert (model.n_ok, model.n_max, model.n_support) == (SLOTS, SLOTS, True)
    assert len(two) == 2 and len(three) == len(again) == 3
    assert all(c.usage.output_tokens > 0 for c in two + three + again)
    said = _said(caplog)
    assert len(said) == 1 and "takes n up to 2" in said[0]  # reported once, with the limit


def test_the_limit_a_llamacpp_refusal_states_is_used(llamacpp2, settings):
    """Refused first (n=3, nothing accepted yet), the model reads llama.cpp's stated maximum and sends n=2
    rather than giving up on n."""
    model = OpenAIChatModel(llamacpp2.spec(), settings, timeout_s=120.0, **FAST)
    outs = asyncio.run(model.complete_n(COLOUR, samples=[1, 2, 3], temperature=0.7, max_tokens=2, seed=2))
    assert len(outs) == 3 and model.n_support is True
    assert (model.n_ok, model.n_max) == (SLOTS, SLOTS)


class _Limited(RecordingChat):
    """An OpenAI-shaped loopback server taking `n` up to `limit` and refusing more with llama.cpp's 400, slowly
    enough (50 ms) that concurrent callers are all in flight at once. Request bodies are recorded."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    async def reply(self, body: dict) -> Any:
        await asyncio.sleep(0.05)
        n = body.get("n") or 1
        if n > self.limit:
            message = f"Field 'n': Value must be between 1 <= value <= {self.limit}, but got {n}"
            return JSONResponse({"error": {"code": 400, "type": "invalid_request_error", "message": message}},
                                status_code=400)
        choices = [{"index": i, "finish_reason": "stop",  # 3 log-probability entries: the summed usage is
                    "message": {"role": "assistant", "content": f"reply {len(self.bodies)}.{i}"},  # evident, so
                    "logprobs": {"content": [{"token": "t", "logprob": -0.1}] * 3}}  # no usage probe is sent
                   for i in range(n)]
        return {"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": choices,
                "usage": {"prompt_tokens": 20, "completion_tokens": 3 * n, "total_tokens": 20 + 3 * n}}


@pytest.mark.parametrize("limit", [1, 2])
def test_concurrent_callers_send_one_probe_per_refused_n(settings, limit, caplog):
    """Three items of a width-3 vote at once: the server sees n=3 once, whatever the concurrency; with a limit of 2
    one n=2 probe follows, and the rest go as n=2 plus plain requests (limit 1: plain requests only)."""
    server = _Limited(limit)
    with ServerThread(server.app) as srv:
        spec = ModelSpec(id="rec/limited", backend="openai", base_url=srv.base_url, model="m", max_concurrency=16)
        model = OpenAIChatModel(spec, settings, timeout_s=5.0, **FAST)

        async def go():
            calls = [model.complete_n([{"role": "user", "content": f"q{i}"}], samples=[1, 2, 3]) for i in range(3)]
            outs = await asyncio.gather(*calls)
            await model.aclose()
            return outs

        outs = asyncio.run(go())
    sizes = [b.get("n") or 1 for b in server.bodies]
    assert sizes.count(3) == 1  # one probe of n=3, not one per caller
    assert sizes.count(2) == (3 if limit == 2 else 0)  # llama.cpp's stated limit, then known: one per item
    assert sizes.count(1) == (3 if limit == 2 else 9)
    assert [len(o) for o in outs] == [3, 3, 3] and all(c.text.startswith("reply") for o in outs for c in o)
    assert model.n_max == limit and model.n_support is (limit > 1)
    assert len(_said(caplog)) == 1


@pytest.mark.parametrize("message, limit", [
    ("Field 'n': Value must be between 1 <= value <= 2, but got 3", "2"),  # llama.cpp's server
    ("Invalid 'n': expected a value <= 128, but got 200.", "128"),  # any maximum stated as "<= N"
    ("'n' must be an integer between 1 and 128, got 200", "128"),  # serve-sim
])
def test_the_limit_stated_by_a_refusal_is_read(message, limit):
    found = STATED_LIMIT.search(f"model 'm' call failed: HTTP 400: {message}")
    assert found is not None and found.group(1) == limit

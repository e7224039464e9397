"""A 400/422 to the first multi-sample request is read as "the endpoint does not take n" only when it is about
`n`: worded so (llama.cpp, vLLM, OpenAI, serve-sim), or confirmed by the first sample alone going through. Any
other 400 (serve-sim's missing answer key: a pool mistake) is raised as the calls would raise it, and coalescing
stays on."""
from __future__ import annotations

import asyncio
import logging

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.models.openai_backend import ModelCallError, OpenAIChatModel
from rolegraph.sim.server import ServerThread

from tests.models.conftest import http_spec, task_calls
from tests.models.fake_servers import NoNServer

FAST = {"timeout_s": 5.0, "backoff_base_s": 0.001, "backoff_cap_s": 0.01}
LLAMA_CPP_NO_N = "Only one completion choice is allowed"  # llama.cpp server's wording (tools/server utils.hpp)
UNWORDED = "Unsupported parameter"  # a refusal of n that does not say which field


def _fallbacks(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "coalesced samples go" in r.getMessage()]


def test_a_pool_mistake_400_is_raised_not_read_as_no_n(serve, settings, caplog):
    caplog.set_level(logging.WARNING)
    server = serve()
    spec = http_spec(server.base_url, answer_key=False, model_id="http/a1b")  # points at serve-sim, no key
    model = OpenAIChatModel(spec, settings, **FAST)
    messages, key = task_calls(1)[0]

    async def go():
        try:
            return await model.complete_n(messages, samples=[1, 2, 3, 4, 5], answer_key=key)
        finally:
            await model.aclose()

    with pytest.raises(ModelCallError, match="no answer key") as err:
        asyncio.run(go())
    assert err.value.status == 400
    assert _fallbacks(caplog) == []  # no "does not take n" hiding the real error
    assert model.n_max is None and model.n_support is None  # coalescing stays on for when the pool is fixed


@pytest.mark.parametrize("message", [LLAMA_CPP_NO_N, UNWORDED])
def test_a_refusal_of_n_turns_coalescing_off_once(settings, caplog, message):
    caplog.set_level(logging.WARNING)
    fake = NoNServer("refuse", message)
    with ServerThread(fake.app) as srv:
        model = OpenAIChatModel(ModelSpec(id="rec/m", backend="openai", base_url=srv.base_url, model="m"),
                                settings, **FAST)

        async def go():
            got = await model.complete_n([{"role": "user", "content": "q"}], samples=[1, 2, 3])
            await model.aclose()
            return got

        got = asyncio.run(go())
    assert len(got) == 3 and all(c.text.startswith("reply") for c in got)
    said = _fallbacks(caplog)
    assert len(said) == 1 and "does not take n" in said[0] and "HTTP 400" in said[0]
    assert model.n_support is False
    assert [b.get("n", 1) for b in fake.bodies] == [3, 1, 1, 1]  # one refused probe, then three plain samples

"""OpenAIChatModel against real loopback servers with the real `openai` client: the sim server (with
injected faults) and a small recording server for what the sim never produces (tool calls, 401)."""
from __future__ import annotations

import asyncio
import gc
import json

import openai
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from rolegraph.errors import MissingKeyError, NoAnswerKeyError
from rolegraph.sim.faults import FAULT_KINDS, FaultConfig
from rolegraph.models.openai_backend import ModelCallError, OpenAIChatModel, tool_schema
from rolegraph.sim.server import ServerThread
from rolegraph.chat.spec import ModelSpec

from tests.models.conftest import SIM_ID, RecordingSleep, http_spec, task_calls

FAST = {"timeout_s": 5.0, "backoff_base_s": 0.001, "backoff_cap_s": 0.01}


def run(coro):
    return asyncio.run(coro)


async def _complete_all(model: OpenAIChatModel, calls, sample: int = 0):
    outs = await asyncio.gather(*(model.complete(m, temperature=0.7, max_tokens=256, seed=1, sample=sample,
                                                 answer_key=k) for m, k in calls))
    await model.aclose()
    return outs


def test_plain_openai_client_talks_to_serve_sim(server):
    client = openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0, timeout=10)
    listed = {m.id for m in client.models.list()}
    assert {"sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b", "sim/llama-3.1-70b"} <= listed
    assert not any(i.startswith("openai/") for i in listed)
    messages, key = task_calls(1)[0]
    resp = client.chat.completions.create(model=SIM_ID, messages=messages, seed=3,
                                          extra_body={"rolegraph": {"answer_key": key.model_dump(), "sample": 0}})
    assert resp.choices[0].message.content
    assert resp.usage.prompt_tokens > 0 and resp.usage.completion_tokens > 0
    client.close()


async def _in_process(settings, calls):
    from rolegraph.models.pool import ModelPool
    from rolegraph.sim.model import SimChatModel

    sim = SimChatModel(ModelPool.builtin().get(SIM_ID), settings)
    return [await sim.complete(m, temperature=0.7, max_tokens=256, seed=1, answer_key=k) for m, k in calls]


def test_completion_equals_in_process_sim(server, settings):
    spec = http_spec(server.base_url)
    calls = task_calls(5)
    outs = run(_complete_all(OpenAIChatModel(spec, settings, **FAST), calls))
    direct = run(_in_process(settings, calls))
    assert [o.text for o in outs] == [d.text for d in direct]
    for out, d in zip(outs, direct):
        assert out.model_id == spec.id and out.simulated and not out.cached
        assert (out.usage.input_tokens, out.usage.output_tokens) == (d.usage.input_tokens, d.usage.output_tokens)
        assert out.cost_usd == pytest.approx(spec.cost(out.usage.input_tokens, out.usage.output_tokens))
        assert out.cost_usd > 0 and out.latency_s > 0


def test_fault_run_succeeds_and_equals_fault_free_run(serve, settings):
    """A few hundred calls at fault rate 0.3 with every kind: all succeed, texts equal the fault-free sim's
    (test_completion_equals_in_process_sim shows the fault-free HTTP run equals the in-process sim)."""
    calls = task_calls(200)
    expected = run(_in_process(settings, calls))

    faults = FaultConfig(rate=0.3, kinds=list(FAULT_KINDS), seed=7, timeout_s=3.0, retry_after_s=1.0)
    flaky = serve(faults)
    sleep = RecordingSleep()
    model = OpenAIChatModel(http_spec(flaky.base_url, max_concurrency=8), settings, timeout_s=1.0, max_attempts=12,
                            backoff_base_s=0.001, backoff_cap_s=0.01, sleep=sleep)
    got = run(_complete_all(model, calls))

    assert [o.text for o in got] == [o.text for o in expected]
    stats = flaky.app.state.stats
    assert set(stats.faults) == set(FAULT_KINDS), stats.faults  # every kind really happened
    assert stats.completions >= len(calls)
    assert stats.requests >= len(calls) + sum(stats.faults.values())  # every fault was retried
    assert sleep.waits.count(1.0) == stats.faults["429"]  # Retry-After honoured for every 429


def test_calls_leave_no_retrying_cycles_for_the_collector(serve, settings):
    """Each call's retry loop is freed by reference counts, on success and after retries: a cycle per call
    would be cyclic garbage in every evaluation, the bulk of what the collector had to find."""
    from tenacity import AsyncRetrying

    server = serve(FaultConfig(rate=0.5, kinds=["429"], seed=3, retry_after_s=0.0))
    model = OpenAIChatModel(http_spec(server.base_url), settings, max_attempts=20, **FAST)
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector finds is kept in gc.garbage, to be counted
    try:
        outs = run(_complete_all(model, task_calls(8)))
        gc.collect()
        left = [o for o in gc.garbage if isinstance(o, AsyncRetrying)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert len(outs) == 8 and server.app.state.stats.faults["429"] > 0  # some calls were retried
    assert left == []


def test_retry_after_is_honoured_and_capped(serve, settings):
    server = serve(FaultConfig(rate=1.0, kinds=["429"], retry_after_s=3.0))
    messages, key = task_calls(1)[0]
    for cap, expected in ((60.0, 3.0), (0.5, 0.5)):
        sleep = RecordingSleep()
        model = OpenAIChatModel(http_spec(server.base_url), settings, max_attempts=3, retry_after_cap_s=cap,
                                sleep=sleep, **{k: v for k, v in FAST.items() if k != "timeout_s"})
        with pytest.raises(ModelCallError) as err:
            run(model.complete(messages, answer_key=key))
        assert sleep.waits == [expected, expected]
        assert "429" in str(err.value) and "3 attempts" in str(err.value) and "\n" not in str(err.value)
    assert server.app.state.stats.requests == 6


def test_partial_429s_all_recover_with_recorded_waits(serve, settings):
    server = serve(FaultConfig(rate=0.5, kinds=["429"], seed=3, retry_after_s=2.0))
    sleep = RecordingSleep()
    model = OpenAIChatModel(http_spec(server.base_url), settings, max_attempts=20, sleep=sleep, **FAST)

    async def sequential():
        return [await model.complete(m, answer_key=k) for m, k in task_calls(12)]

    outs = run(sequential())
    assert len(outs) == 12 and all(o.text for o in outs)
    assert sleep.waits == [2.0] * server.app.state.stats.faults["429"]
    assert sleep.waits  # the seed does inject some


def test_unknown_model_404_is_not_retried(server, settings):
    sleep = RecordingSleep()
    model = OpenAIChatModel(http_spec(server.base_url, model="sim/llama-9b"), settings, sleep=sleep, **FAST)
    messages, key = task_calls(1)[0]
    with pytest.raises(ModelCallError) as err:
        run(model.complete(messages, answer_key=key))
    assert "404" in str(err.value) and "http/llama-3.2-3b" in str(err.value)
    assert server.app.state.stats.requests == 1 and sleep.waits == []


def test_missing_answer_key_gives_the_sims_message(server, settings):
    from rolegraph.models.pool import ModelPool
    from rolegraph.sim.model import SimChatModel

    messages, _ = task_calls(1)[0]
    sim = SimChatModel(ModelPool.builtin().get(SIM_ID), settings)
    with pytest.raises(NoAnswerKeyError) as direct:
        run(sim.complete(messages))
    model = OpenAIChatModel(http_spec(server.base_url), settings, **FAST)
    with pytest.raises(ModelCallError) as err:
        run(model.complete(messages))
    assert "400" in str(err.value)
    assert " ".join(str(direct.value).split())[:80] in str(err.value)
    assert server.app.state.stats.requests == 1


def test_answer_key_is_never_sent_to_a_real_spec(server, settings):
    """A spec without answer_key=True drops the key: the sim server then has none and refuses."""
    messages, key = task_calls(1)[0]
    model = OpenAIChatModel(http_spec(server.base_url, answer_key=False), settings, **FAST)
    with pytest.raises(ModelCallError, match="400"):
        run(model.complete(messages, answer_key=key))


class _Recorder:
    """A minimal OpenAI-shaped server that records request bodies and answers with a tool call."""

    def __init__(self, status: int = 200, delay_s: float = 0.0, usage: bool = True):
        self.bodies: list[dict] = []
        self.auth: list[str | None] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.app = FastAPI()

        @self.app.post("/v1/chat/completions")
        async def chat(request: Request):
            self.bodies.append(json.loads(await request.body()))
            self.auth.append(request.headers.get("authorization"))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            await asyncio.sleep(delay_s)
            self.in_flight -= 1
            if status != 200:
                return JSONResponse({"error": {"message": "Incorrect API key provided: sk-secret1234567890abc",
                                               "type": "invalid_request_error"}}, status_code=status)
            body = {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                    "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                        "role": "assistant", "content": None, "tool_calls": [
                            {"id": "call_1", "type": "function",
                             "function": {"name": "search", "arguments": "{\"q\": \"paris\"}"}}]}}]}
            if usage:
                body["usage"] = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
            return body


def _recorder_spec(base_url: str, **extra) -> ModelSpec:
    return ModelSpec(id="rec/model", backend="openai", base_url=base_url, model="served-name", price_in=1.0,
                     price_out=2.0, **extra)


def test_tools_seed_and_tool_calls_pass_through(settings):
    rec = _Recorder()
    bare = {"name": "search", "description": "web search",
            "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}
    with ServerThread(rec.app) as srv:
        model = OpenAIChatModel(_recorder_spec(srv.base_url), settings, **FAST)
        _, key = task_calls(1)[0]
        out = run(model.complete([{"role": "user", "content": "capital of France?"}], seed=42, tools=[bare],
                                 answer_key=key))
    body = rec.bodies[0]
    assert body["model"] == "served-name" and body["seed"] == 42
    assert body["tools"] == [tool_schema(bare)] and body["tools"][0]["type"] == "function"
    assert "rolegraph" not in body  # a real server never sees the answer key
    assert [(c.id, c.name, c.arguments) for c in out.tool_calls] == [("call_1", "search", "{\"q\": \"paris\"}")]
    assert out.text == "" and (out.usage.input_tokens, out.usage.output_tokens) == (11, 7)
    assert out.cost_usd == pytest.approx((11 * 1.0 + 7 * 2.0) / 1e6) and not out.simulated


def test_response_format_goes_into_the_body_only_when_asked(settings):
    rec = _Recorder()
    schema = {"type": "json_schema", "json_schema": {"name": "r", "schema": {"type": "object"}}}
    with ServerThread(rec.app) as srv:
        model = OpenAIChatModel(_recorder_spec(srv.base_url), settings, **FAST)
        run(model.complete([{"role": "user", "content": "json please"}], response_format=schema))
        run(model.complete([{"role": "user", "content": "plain"}]))
    assert rec.bodies[0]["response_format"] == schema
    assert "response_format" not in rec.bodies[1]


def test_usage_is_estimated_when_the_server_omits_it(settings):
    rec = _Recorder(usage=False)
    with ServerThread(rec.app) as srv:
        model = OpenAIChatModel(_recorder_spec(srv.base_url), settings, **FAST)
        out = run(model.complete([{"role": "user", "content": "x" * 40}]))
    assert (out.usage.input_tokens, out.usage.output_tokens) == (10, 0)  # 40 chars at 4 a token; no text
    assert [c.name for c in out.tool_calls] == ["search"]


def test_request_is_what_the_sdks_create_sends(settings, monkeypatch):
    """The backend posts its finished body itself: it must equal create()'s, key header included."""
    monkeypatch.setenv("RG_TEST_KEY", "sk-test-equal-bodies")
    rec = _Recorder()
    tool = {"name": "search", "description": "web search",
            "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}
    messages = [{"role": "system", "content": "Role: searcher."}, {"role": "user", "content": "Question: x?"},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "search", "arguments": "{\"q\": \"x\"}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "[1] x is y"}]
    _, key = task_calls(1)[0]

    async def both(base_url: str) -> None:
        spec = _recorder_spec(base_url, api_key_env="RG_TEST_KEY", answer_key=True)
        model = OpenAIChatModel(spec, settings, **FAST)
        await model.complete(messages, temperature=0.3, max_tokens=64, seed=9, tools=[tool], sample=5,
                             answer_key=key)
        await model.aclose()
        async with openai.AsyncOpenAI(base_url=base_url, api_key="sk-test-equal-bodies", max_retries=0) as client:
            await client.chat.completions.create(
                model="served-name", messages=messages, temperature=0.3, max_tokens=64, seed=9,
                tools=[tool_schema(tool)], extra_body={"rolegraph": {"sample": 5, "answer_key": key.model_dump()}})

    with ServerThread(rec.app) as srv:
        run(both(srv.base_url))
    ours, sdk = rec.bodies
    assert ours == sdk and ours["messages"] == messages and ours["rolegraph"]["sample"] == 5
    assert rec.auth == ["Bearer sk-test-equal-bodies"] * 2


def test_auth_error_is_one_line_without_the_key(settings, monkeypatch):
    monkeypatch.setenv("RG_TEST_KEY", "sk-secret1234567890abc")
    rec = _Recorder(status=401)
    with ServerThread(rec.app) as srv:
        model = OpenAIChatModel(_recorder_spec(srv.base_url, api_key_env="RG_TEST_KEY"), settings, **FAST)
        with pytest.raises(ModelCallError) as err:
            run(model.complete([{"role": "user", "content": "hi"}]))
    message = str(err.value)
    assert "401" in message and "RG_TEST_KEY" in message and "rec/model" in message
    assert "secret" not in message and "\n" not in message
    assert len(rec.bodies) == 1


def test_missing_key_names_the_env_var(settings, monkeypatch):
    monkeypatch.delenv("RG_ABSENT_KEY", raising=False)
    with pytest.raises(MissingKeyError, match="RG_ABSENT_KEY"):
        OpenAIChatModel(_recorder_spec("http://127.0.0.1:9/v1", api_key_env="RG_ABSENT_KEY"), settings)


def test_concurrency_is_capped_per_model_and_survives_new_loops(settings):
    rec = _Recorder(delay_s=0.1)
    with ServerThread(rec.app) as srv:
        model = OpenAIChatModel(_recorder_spec(srv.base_url, max_concurrency=2), settings, **FAST)

        async def burst():
            return await asyncio.gather(*(model.complete([{"role": "user", "content": str(i)}]) for i in range(8)))

        first = run(burst())
        second = run(burst())  # a new event loop: client and semaphore are rebuilt for it
        run(model.aclose())
    assert len(first) == len(second) == 8
    assert rec.max_in_flight == 2


def test_finish_reason_of_a_cut_reply_reaches_the_completion(server, settings):
    model = OpenAIChatModel(http_spec(server.base_url), settings, **FAST)
    messages, key = task_calls(1)[0]

    async def both():
        cut = await model.complete(messages, max_tokens=4, seed=2, answer_key=key)
        whole = await model.complete(messages, max_tokens=4096, seed=2, answer_key=key)
        await model.aclose()
        return cut, whole

    cut, whole = run(both())
    assert cut.finish_reason == "length" and cut.truncated and cut.usage.output_tokens <= 4
    assert whole.finish_reason == "stop" and not whole.truncated
    assert whole.text.startswith(cut.text) and len(whole.text) > len(cut.text)


_MISSING = object()


@pytest.mark.parametrize("sent, read", [(_MISSING, "stop"), (None, "stop"), ("length", "length"),
                                        ("content_filter", "content_filter"), ("function_call", "tool_calls"),
                                        ("abort", "other")])
def test_finish_reason_from_any_compatible_server(settings, sent, read):
    """Servers differ: a missing or null reason is "stop", legacy names map, unknown ones are "other"."""
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        choice = {"index": 0, "message": {"role": "assistant", "content": "hi"}}
        if sent is not _MISSING:
            choice["finish_reason"] = sent
        return {"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": [choice]}

    with ServerThread(app) as srv:
        out = run(OpenAIChatModel(_recorder_spec(srv.base_url), settings, **FAST).complete(
            [{"role": "user", "content": "hello"}]))
    assert out.text == "hi" and out.finish_reason == read

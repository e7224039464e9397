"""How a misconfigured or hanging endpoint fails: a 404 on the route hints at `/v1`, an HTML 501 is not retried,
a 400 quoting part of a plain key does not leak it, a pool entry's `timeout_s`/`max_retries` bound a hanging
call, and an entry without `base_url` goes to OpenAI's API explicitly ($OPENAI_BASE_URL never redirects it).
Real loopback servers and the real `openai` client."""
from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse

from rolegraph.chat.spec import OPENAI_API_URL, ModelSpec
from rolegraph.models.openai_backend import MIN_KEY_FRAGMENT, NOT_FOUND_HINT, OpenAIChatModel, scrub_key
from rolegraph.models.openai_errors import ModelCallError
from rolegraph.settings import Settings
from rolegraph.sim.server import ServerThread
from tests.models.conftest import RecordingSleep
from tests.sent_timeouts_support import every_phase, spy_on_sent_timeouts

KEY_ENV = "RG_PLAIN_KEY_TEST"
PLAIN_KEY = "MyPlainSecretToken0123456789"
HANG_S = 5.0  # the hanging endpoint's pause: far beyond the entry's timeout_s
TIMEOUT_S = 0.3
MESSAGES = [{"role": "user", "content": "hi"}]


def _counting(app: FastAPI) -> list[int]:
    hits: list[int] = []

    @app.middleware("http")
    async def count(request, call_next):
        hits.append(1)
        return await call_next(request)

    return hits


def _fail(spec: ModelSpec, tmp_path, sleep: RecordingSleep | None = None) -> ModelCallError:
    model = OpenAIChatModel(spec, Settings(home=tmp_path / "home"), sleep=sleep or RecordingSleep())

    async def go():
        try:
            await model.complete(MESSAGES)
        finally:
            await model.aclose()

    with pytest.raises(ModelCallError) as err:
        asyncio.run(go())
    return err.value


def test_a_404_on_the_route_hints_at_v1_and_is_not_retried(tmp_path):
    app = FastAPI()  # nothing at /chat/completions: the base_url lacks its /v1
    hits = _counting(app)
    with ServerThread(app) as srv:
        root = srv.base_url.removesuffix("/v1")
        err = _fail(ModelSpec(id="x/y", backend="openai", base_url=root), tmp_path)
    assert NOT_FOUND_HINT in str(err) and root in str(err) and err.status == 404
    assert len(hits) == 1


def test_a_404_naming_the_model_keeps_the_servers_message(tmp_path):
    # an OpenAI-style error body: the route exists, the model does not; no /v1 hint there
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat():
        return JSONResponse({"error": {"message": "The model `nope` does not exist"}}, status_code=404)

    with ServerThread(app) as srv:
        err = _fail(ModelSpec(id="x/nope", backend="openai", base_url=srv.base_url), tmp_path)
    assert "does not exist" in str(err) and NOT_FOUND_HINT not in str(err)


def test_an_html_501_is_not_retried(tmp_path):
    app = FastAPI()
    hits = _counting(app)

    @app.post("/v1/chat/completions")
    async def chat():
        return HTMLResponse("<html><body><h1>501 Not Implemented</h1></body></html>", status_code=501)

    sleep = RecordingSleep()
    with ServerThread(app) as srv:
        err = _fail(ModelSpec(id="x/y", backend="openai", base_url=srv.base_url), tmp_path, sleep)
    assert err.status == 501 and "after" not in str(err)
    assert len(hits) == 1 and sleep.waits == []


def test_a_400_quoting_part_of_a_plain_key_does_not_leak_it(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, PLAIN_KEY)
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat():
        quoted = PLAIN_KEY[:18] + "****"
        return JSONResponse({"error": {"message": f"Invalid key format: {quoted} is not allowed here"}},
                            status_code=400)

    with ServerThread(app) as srv:
        spec = ModelSpec(id="x/y", backend="openai", base_url=srv.base_url, api_key_env=KEY_ENV)
        err = _fail(spec, tmp_path)
    text = str(err)
    assert "Invalid key format" in text and "is not allowed here" in text  # the rest of the message stays
    assert "MyPlain" not in text and "SecretToken" not in text


def test_scrub_key_takes_every_long_enough_run_of_the_key_and_nothing_shorter():
    assert scrub_key(f"a {PLAIN_KEY} b", PLAIN_KEY) == "a *** b"
    assert scrub_key("tail 0123456789 head", PLAIN_KEY) == "tail *** head"
    inner = PLAIN_KEY[2 : 2 + MIN_KEY_FRAGMENT - 1]  # "Plain": a short run inside the key is an ordinary word
    assert scrub_key(f"x {inner} y", PLAIN_KEY) == f"x {inner} y"


@pytest.mark.timeout(60)  # a hang guard only: how long the call took is not asserted (timing lives in benchmarks/)
def test_a_pool_entrys_timeout_and_retries_bound_a_hanging_endpoint(tmp_path, monkeypatch):
    """Each attempt is sent with the entry's timeout_s (what httpx enforces, seen on the request it sends) and ends by
    timing out, not by the endpoint's late 500; the message names that timeout and the attempts."""
    app = FastAPI()
    hits = _counting(app)
    sent_timeouts = spy_on_sent_timeouts(monkeypatch)

    @app.post("/v1/chat/completions")
    async def chat():
        await asyncio.sleep(HANG_S)
        return JSONResponse({}, status_code=500)

    with ServerThread(app) as srv:
        spec = ModelSpec(id="x/slow", backend="openai", base_url=srv.base_url, timeout_s=TIMEOUT_S, max_retries=1)
        err = _fail(spec, tmp_path)
    assert f"timed out after {TIMEOUT_S:g} s" in str(err) and "after 2 attempts" in str(err)
    assert len(hits) == 2
    assert sent_timeouts == [every_phase(TIMEOUT_S)] * 2


def test_an_entry_without_base_url_goes_to_openai_whatever_openai_base_url_says(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    model = OpenAIChatModel(ModelSpec(id="openai/gpt-x", backend="openai"), Settings(home=tmp_path / "home"))

    async def base_url() -> str:
        client, _ = model._loop_state()
        try:
            return str(client.base_url)
        finally:
            await model.aclose()

    assert asyncio.run(base_url()).rstrip("/") == OPENAI_API_URL  # no request is made

"""A base_url may carry credentials (`https://user:pass@host/v1`) or a key in its query (`?key=...`): neither
reaches an error message, a warning, `rolegraph models`, provenance or timings.sqlite. Each shows the URL's
public form (scheme, host, port, path)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import pytest

from rolegraph.chat.spec import ModelSpec, public_url, url_identity
from rolegraph.graphs.provenance import public_endpoint
from rolegraph.models.openai_backend import ModelCallError, OpenAIChatModel
from rolegraph.models.openai_sampling import _no_n
from rolegraph.models.openai_stream import _no_stream
from rolegraph.models.timings import TIMINGS_FILE, CallTimings, timing_key
from rolegraph.settings import Settings

SECRETS = ("secret", "SECRET2")
SECRET_URL = "https://u:secret@127.0.0.1:9/v1?key=SECRET2"
PUBLIC = "https://127.0.0.1:9/v1"
MESSAGES = [{"role": "user", "content": "hi"}]


def _spec(url: str = SECRET_URL, model_id: str = "mine/leaky") -> ModelSpec:
    return ModelSpec(id=model_id, backend="openai", base_url=url, model="m")


def _clean(text: str) -> bool:
    return not any(s in text for s in SECRETS)


def test_the_public_form_drops_userinfo_query_and_fragment():
    assert public_url(SECRET_URL) == PUBLIC
    assert public_url("https://tok@example.com/v1#frag") == "https://example.com/v1"
    assert public_url("http://[::1]:8000/v1?api-version=2024-02-01") == "http://[::1]:8000/v1"
    assert _spec().public_endpoint == PUBLIC
    assert public_endpoint(SECRET_URL) == PUBLIC  # provenance keeps its name and its rule


def test_a_refused_call_names_the_public_endpoint_only(tmp_path):
    model = OpenAIChatModel(_spec(), Settings(home=tmp_path, cache=False), max_attempts=1)

    async def call() -> str:
        try:
            with pytest.raises(ModelCallError) as info:
                await model.complete(MESSAGES)
            return str(info.value)
        finally:
            await model.aclose()

    message = asyncio.run(call())
    assert "connection refused" in message and PUBLIC in message, message
    assert _clean(message) and "u:" not in message, message


def test_a_refused_stream_names_the_public_endpoint_only(tmp_path):
    model = OpenAIChatModel(_spec(), Settings(home=tmp_path, cache=False), max_attempts=1)

    async def call() -> str:
        try:
            with pytest.raises(ModelCallError) as info:
                async for _ in model.stream(MESSAGES):
                    pass
            return str(info.value)
        finally:
            await model.aclose()

    message = asyncio.run(call())
    assert PUBLIC in message and _clean(message), message


def test_a_server_quoting_the_url_or_its_secrets_is_scrubbed(tmp_path):
    model = OpenAIChatModel(_spec(), Settings(home=tmp_path, cache=False))
    scrubbed = model._scrub(f"bad request to {SECRET_URL}; key SECRET2 for user u:secret rejected")
    assert _clean(scrubbed) and PUBLIC in scrubbed, scrubbed
    assert "bad request to" in scrubbed and "rejected" in scrubbed  # ordinary words survive (the user is "u")


def test_fallback_warnings_name_the_public_endpoint_only(tmp_path, caplog):
    model = OpenAIChatModel(_spec(), Settings(home=tmp_path, cache=False))
    with caplog.at_level(logging.WARNING):
        _no_stream(model, "it answered stream: true with application/json")
        _no_n(model, "it refused n=2 with HTTP 400")
    lines = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(lines) == 2 and all(PUBLIC in line for line in lines), lines
    assert all(_clean(line) for line in lines), lines


def test_timings_keep_no_secret_and_keep_old_keys(tmp_path):
    timings = CallTimings(tmp_path / TIMINGS_FILE)
    for n in range(4):
        timings.record(_spec(), 100 + n, 10, 0.5 + n)
    assert len(timings.rows(_spec())) == 4  # found again under the redacted key
    timings.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"secret" not in stored and b"SECRET2" not in stored
    with sqlite3.connect(tmp_path / TIMINGS_FILE) as db:
        keys = [k for (k,) in db.execute("SELECT DISTINCT key FROM calls")]
    assert len(keys) == 1 and keys[0].startswith(f"mine/leaky|{PUBLIC}#") and _clean(keys[0])
    # a URL with nothing secret keys as before, so rows recorded earlier are still found
    plain = "http://127.0.0.1:8000/v1"
    assert timing_key(_spec(plain)) == f"mine/leaky|{plain}|m" and url_identity(plain) == plain
    # URLs that differ only in their secret parts stay apart
    other = "https://u:other@127.0.0.1:9/v1?key=SECRET2"
    assert timing_key(_spec(other)) != timing_key(_spec())

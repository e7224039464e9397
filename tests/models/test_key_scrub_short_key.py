"""A local server's placeholder key (`api_key_env` naming a variable set to `x`, `none`, `dummy`) must not cut up
every error message: `scrub_key` replaced the key wherever its characters appeared, so with the key `x` a
context-window error read `request (2969 tokens) e***ceeds the available conte***t size`. A key shorter than a
scrubbed run goes only where it stands alone; a realistic key is still scrubbed everywhere it is quoted."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from rolegraph.chat.spec import ModelSpec
from rolegraph.models.key_scrub import MIN_KEY_FRAGMENT, scrub_key
from rolegraph.models.openai_backend import OpenAIChatModel
from rolegraph.settings import Settings
from rolegraph.sim.server import ServerThread
from tests.models.conftest import failed_call_message

KEY_ENV = "RG_SHORT_KEY_TEST"
CONTEXT_ERROR = "request (2969 tokens) exceeds the available context size (2048 tokens), try increasing it"
PLACEHOLDERS = ["x", "none", "dummy", "EMPTY", "sk-1"]
REAL_KEY = "sk-proj-Q8rT5vW2nM4kL7pJ9hG3"


@pytest.mark.parametrize("key", PLACEHOLDERS)
def test_a_placeholder_key_leaves_ordinary_words_intact(key):
    assert len(key) < MIN_KEY_FRAGMENT
    text = "nonexistent dummyfile: EMPTYING xterm exceeds context; sk-12 and 4x4 are names"
    assert scrub_key(text, key) == text


def test_a_short_key_standing_alone_is_still_removed():
    assert scrub_key("rejected token x for this server", "x") == "rejected token *** for this server"


def test_a_realistic_key_is_still_scrubbed_whole_and_in_part():
    text = f"bad key {REAL_KEY}; quoted as {REAL_KEY[:12]}... and glued qq{REAL_KEY[10:20]}qq"
    out = scrub_key(text, REAL_KEY)
    assert REAL_KEY not in out and REAL_KEY[:12] not in out and REAL_KEY[10:20] not in out, out
    assert out.startswith("bad key ***; quoted as ")


def _error_with_key(key: str, message: str, tmp_path, monkeypatch) -> str:
    monkeypatch.setenv(KEY_ENV, key)
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat():
        return JSONResponse({"error": {"message": message, "type": "invalid_request_error"}}, status_code=400)

    with ServerThread(app) as srv:
        spec = ModelSpec(id="x/y", backend="openai", base_url=srv.base_url, api_key_env=KEY_ENV, max_retries=0)
        model = OpenAIChatModel(spec, Settings(home=tmp_path / "home"), backoff_base_s=0.001, backoff_cap_s=0.01)
        return failed_call_message(model)


def test_a_context_error_with_the_key_x_reads_as_the_server_wrote_it(tmp_path, monkeypatch):
    text = _error_with_key("x", CONTEXT_ERROR, tmp_path, monkeypatch)
    assert "exceeds the available context size" in text and "***" not in text, text


def test_a_real_key_quoted_by_the_server_is_still_scrubbed(tmp_path, monkeypatch):
    text = _error_with_key(REAL_KEY, f"Incorrect API key provided: {REAL_KEY}. {CONTEXT_ERROR}", tmp_path, monkeypatch)
    assert REAL_KEY not in text and "Q8rT5v" not in text, text
    assert "Incorrect API key provided" in text and "exceeds the available context size" in text, text

"""A server quoting a key by its first and last characters, as OpenAI does ("Incorrect API key provided:
sk-SECRE***...3456": the first 8 and the last 4), leaves no part of it in rolegraph's message, the last 4
included; ordinary text that merely shares characters with the key stays. A real loopback server and the
real `openai` client."""
from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from rolegraph.chat.spec import ModelSpec
from rolegraph.models.openai_backend import OpenAIChatModel, scrub_key
from rolegraph.settings import Settings
from rolegraph.sim.server import ServerThread
from tests.models.conftest import failed_call_message

KEY_ENV = "RG_QUOTED_KEY_TEST"
KEY = "sk-SECRETkeyvalueXYZ3456"
OPENAI_QUOTE = "sk-SECRE***...3456"  # OpenAI's quote of KEY: key[:8] + "***..." + key[-4:]


def _error_for(message: str, tmp_path, monkeypatch, status: int = 500) -> str:
    monkeypatch.setenv(KEY_ENV, KEY)
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat():
        return JSONResponse({"error": {"message": message, "type": "invalid_request_error"}}, status_code=status)

    with ServerThread(app) as srv:
        spec = ModelSpec(id="x/y", backend="openai", base_url=srv.base_url, api_key_env=KEY_ENV, max_retries=0)
        model = OpenAIChatModel(spec, Settings(home=tmp_path / "home"), backoff_base_s=0.001, backoff_cap_s=0.01)
        return failed_call_message(model)


def test_an_openai_style_quote_of_the_key_leaves_neither_end(tmp_path, monkeypatch):
    text = _error_for(f"Incorrect API key provided: {OPENAI_QUOTE}. Find your key at the dashboard.",
                      tmp_path, monkeypatch)
    assert "Incorrect API key provided" in text and "Find your key at the dashboard" in text
    assert "3456" not in text and "SECRE" not in text and "sk-S" not in text, text


@pytest.mark.parametrize("quote", ["sk-S...3456", "sk-SECRE****3456", "key ending in 3456", "ends with XYZ3456."])
def test_any_head_or_tail_of_four_or_more_is_scrubbed(quote):
    out = scrub_key(f"bad key: {quote}", KEY)
    assert "3456" not in out and "sk-S" not in out, out
    assert out.startswith("bad key: ")


def test_shorter_ends_and_ends_inside_longer_words_stay():
    assert scrub_key("port 34567 and 456 and sk-", KEY) == "port 34567 and 456 and sk-"
    assert scrub_key("served by localhost", "local-secret-0000") == "served by localhost"

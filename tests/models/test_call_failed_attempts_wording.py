"""A transient failure's message counts its attempts in English: "after 1 attempt" for a pool entry with
`max_retries: 0`, "after 3 attempts" for `max_retries: 2`. Real loopback server, real `openai` client."""
from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from rolegraph.chat.spec import ModelSpec
from rolegraph.models.openai_backend import OpenAIChatModel
from rolegraph.settings import Settings
from rolegraph.sim.server import ServerThread
from tests.models.conftest import RecordingSleep, failed_call_message


def always_503() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat():
        return JSONResponse({"error": {"message": "busy"}}, status_code=503)

    return app


@pytest.mark.parametrize("retries, phrase", [(0, " after 1 attempt: "), (2, " after 3 attempts: ")])
def test_attempts_are_counted_in_words(tmp_path, retries, phrase):
    with ServerThread(always_503()) as srv:
        spec = ModelSpec(id="x/busy", backend="openai", base_url=srv.base_url, max_retries=retries)
        model = OpenAIChatModel(spec, Settings(home=tmp_path / "home"), sleep=RecordingSleep())
        message = failed_call_message(model)
    assert phrase in message

"""`scrub_key` at its edges: a key shorter than a scrubbed run is still removed whole, a run of exactly the key's
last MIN_KEY_FRAGMENT characters is removed even inside a longer word (a server gluing it to other text), the
key's tail at the end of a longer number is not taken for it (ordinary text stays readable), and a key-like token
that is not our key (a local endpoint has none) never reaches a call's error message either."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from rolegraph.chat.spec import ModelSpec
from rolegraph.models.openai_backend import OpenAIChatModel, scrub_key
from rolegraph.settings import Settings
from rolegraph.sim.server import ServerThread
from tests.models.conftest import failed_call_message

KEY = "sk-SECRETkeyvalueXYZ3456"


def test_a_key_shorter_than_a_scrubbed_run_is_still_removed():
    short = "ab12x"  # a local server's token: five characters, fewer than any scrubbed run
    out = scrub_key("rejected token ab12x for this server", short)
    assert "ab12x" not in out and out == "rejected token *** for this server"


def test_the_keys_last_six_characters_glued_into_a_word_are_removed():
    out = scrub_key("echo: qqYZ3456qq", KEY)  # KEY's last six, with other letters on both sides
    assert "YZ3456" not in out and "3456" not in out
    assert out.startswith("echo: qq") and out.endswith("qq")


def test_the_keys_first_six_characters_glued_into_a_word_are_removed():
    out = scrub_key("echo: qqsk-SECqq", KEY)
    assert "sk-SEC" not in out and out.startswith("echo: qq") and out.endswith("qq")


def test_a_longer_number_ending_in_the_keys_last_four_stays():
    assert scrub_key("order 123456 shipped", KEY) == "order 123456 shipped"


OTHER_KEYS = ["sk-proj-AbCdEf1234567890", "key-abc123"]  # a key rolegraph was not given; the shortest key-like form


@pytest.mark.parametrize("other", OTHER_KEYS)
def test_a_server_quoting_a_key_rolegraph_was_not_given_is_scrubbed(other, tmp_path):
    """A local endpoint needs no key (rolegraph sends a placeholder), so there is no key of ours to look for; a
    server (or proxy) that quotes some other key in its error must still not put it in the message."""
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat():
        message = f"upstream rejected {other} for this route"
        return JSONResponse({"error": {"message": message, "type": "invalid_request_error"}}, status_code=500)

    with ServerThread(app) as srv:
        spec = ModelSpec(id="x/y", backend="openai", base_url=srv.base_url, max_retries=0)
        model = OpenAIChatModel(spec, Settings(home=tmp_path / "home"), backoff_base_s=0.001, backoff_cap_s=0.01)
        text = failed_call_message(model)
    assert "upstream rejected" in text and "for this route" in text, text
    assert other not in text and other[4:] not in text, text

"""The refusal of a token-shaped `env_from` / `headers_from_env` value names the entry it is for, by its key, so
the user finds it at once, unless that key has a token's shape too (then it is most likely a token, and the
message never repeats it). Made-up values only."""

from __future__ import annotations

import sys

import pytest
from pydantic import ValidationError

from rolegraph.tools.mcp_config import McpServerSpec

TOKEN = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345"
OTHER_TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"


def _refusal(**env_from: str) -> str:
    with pytest.raises(ValidationError) as info:
        McpServerSpec(name="s", command=[sys.executable, "-c", "pass"], env_from=env_from)
    return str(info.value)


def test_the_refusal_names_the_entry_by_its_ordinary_key():
    message = _refusal(API_TOKEN=TOKEN)
    assert "(for API_TOKEN)" in message
    assert TOKEN not in message and TOKEN[:10] not in message


def test_a_token_shaped_key_is_not_repeated_either():
    message = _refusal(**{OTHER_TOKEN: TOKEN})
    assert OTHER_TOKEN not in message and OTHER_TOKEN[:10] not in message
    assert TOKEN not in message and TOKEN[:10] not in message
    assert "shape of a token" in message

"""A token pasted where `env_from` / `headers_from_env` wants a variable's NAME is refused when the graph is
read, without repeating it, even when it is a valid identifier (`hf_...`, `ghp_...`, `AKIA...`): such a value used
to pass, and the run then printed it back in its "not set" line. Ordinary names still pass, and the "not set" line
still names them (the user needs the name)."""

from __future__ import annotations

import sys

import pytest
from pydantic import ValidationError

from rolegraph.errors import RolegraphError
from rolegraph.graphs.io import load_graph
from rolegraph.tools.mcp_config import McpEnvError, McpServerSpec, from_environment, looks_like_secret

# made-up tokens of the published shapes (no real credentials)
PASTED = [
    "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "gho_16C7e42F292c6912E7710c838347Ae178B4a",
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
    "AKIAIOSFODNN7EXAMPLE",
    "ASIAY34FZKBOKMUTVV7A",
    "a3f9c2e1b4d5f60718293a4b5c6d7e8f",  # 32 hex digits: no prefix, lower case mixed with digits
    "XyZ_Q8rT5vW2nM4kL7pJ9hG3fD6sA1zC",  # a base62 token with an underscore in it
]
NAMES = ["MY_HF_TOKEN", "GITHUB_TOKEN", "AWS_ACCESS_KEY_ID", "ROLEGRAPH_TEST_MCP_TOKEN", "hf_token", "my_token2",
         "OPENAI_API_KEY_2024", "SERVICE_ACCOUNT_CREDENTIALS_PATH", "Path", "verylongvariablenamewithoutdigits"]


def _stdio(**env_from: str) -> McpServerSpec:
    return McpServerSpec(name="evil", command=[sys.executable, "-c", "pass"], env_from=env_from)


@pytest.mark.parametrize("token", PASTED)
def test_a_pasted_token_in_env_from_is_refused_without_being_repeated(token):
    with pytest.raises(ValidationError) as info:
        _stdio(HF_TOKEN=token)
    message = str(info.value)
    assert "shape of a token" in message and "HF_TOKEN" in message
    assert token not in message and token[:8] not in message


@pytest.mark.parametrize("token", PASTED)
def test_a_pasted_token_in_headers_from_env_is_refused_without_being_repeated(token):
    with pytest.raises(ValidationError) as info:
        McpServerSpec(name="docs", url="https://mcp.example.com/mcp", headers_from_env={"Authorization": token})
    message = str(info.value)
    assert "shape of a token" in message and token not in message and token[:8] not in message


def test_a_graph_file_with_a_pasted_token_is_one_line_that_does_not_repeat_it(tmp_path):
    token = PASTED[0]
    text = f"""name: sec
nodes:
  - {{id: a, role: solver, model: sim/llama-3.1-8b}}
mcp_servers:
  - {{name: evil, command: [python, evil.py], env_from: {{HF_TOKEN: {token}}}}}
"""
    path = tmp_path / "sec.yaml"
    path.write_text(text)
    with pytest.raises(RolegraphError) as info:
        load_graph(path)
    message = str(info.value)
    assert "\n" not in message and "'evil'" in message and token not in message and "hf_AbCd" not in message


@pytest.mark.parametrize("name", NAMES)
def test_variable_names_are_not_taken_for_tokens(name):
    assert not looks_like_secret(name)
    assert _stdio(TOKEN=name).env_from == {"TOKEN": name}


def test_an_unset_ordinary_variable_is_still_named():
    spec = _stdio(TOKEN="MY_HF_TOKEN")
    with pytest.raises(McpEnvError) as info:
        from_environment(spec, spec.env_from, environ={})
    assert "MY_HF_TOKEN" in str(info.value) and "not set" in str(info.value)


def test_an_unset_token_shaped_name_that_skipped_validation_is_not_shown():
    """`model_construct` skips validation: the run-time message still keeps the token out."""
    token = PASTED[1]
    spec = McpServerSpec.model_construct(name="evil", command=["x"], env_from={"TOKEN": token})
    with pytest.raises(McpEnvError) as info:
        from_environment(spec, {"TOKEN": token, "OTHER": "MY_OTHER_VAR"}, environ={})
    message = str(info.value)
    assert token not in message and "MY_OTHER_VAR" in message and "not shown" in message

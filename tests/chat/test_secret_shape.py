"""A pool entry's `api_key_env` shaped like a key (a valid identifier such as `hf_...` or `ghp_...`) is refused
when the pool is read, and the refusal never repeats it: before, it passed, and `run` then printed "set the
environment variable hf_..." with the key in it."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from rolegraph.chat.spec import ModelSpec
from tests.cli.support import cli

# made-up values of each shape (none is a real credential)
SHAPED = [
    "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345",
    "ghp_0123456789abcdefABCDEF0123456789abcd",
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
    "sk_live_00aa11bb22cc33dd44ee",  # no known prefix: a long run mixing lower case and digits
    "AKIAABCDEFGHIJ012345",
]


@pytest.mark.parametrize("value", SHAPED)
def test_a_key_shaped_name_is_refused_without_echoing_it(value):
    with pytest.raises(ValidationError) as err:
        ModelSpec(id="k/x", backend="openai", base_url="http://127.0.0.1:9/v1", api_key_env=value)
    text = str(err.value)
    assert "shape of a key" in text
    assert value not in text and value[:10] not in text


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "HF_TOKEN", "my_key2", "OPENAI_API_KEY_2024", "hf_token"])
def test_ordinary_variable_names_still_pass(name):
    assert ModelSpec(id="k/x", backend="openai", api_key_env=name).api_key_env == name


def test_a_pool_file_with_one_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    token = SHAPED[0]
    pool = tmp_path / "pool.yaml"
    pool.write_text("models:\n  - {id: k/x, backend: openai, base_url: 'http://127.0.0.1:9/v1', "
                    f"api_key_env: {token}, model: m}}\n")
    graph = tmp_path / "g.yaml"
    graph.write_text("name: g\nnodes:\n  - {id: out, role: solver, model: k/x}\nedges: []\n")
    code, out, err = cli(["run", graph, "What is 2+2?", "--pool", pool], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "shape of a key" in err
    assert token not in out + err and token[:10] not in out + err

"""A pool file's `openai` entries must say where they go: a missing `base_url` (the client would quietly call
OpenAI), one without a scheme or with another scheme, and a key pasted into `api_key_env` are refused when the
file is read, in one line naming the entry (and never showing the key)."""
from __future__ import annotations

import pytest
import yaml

from rolegraph.chat.spec import OPENAI_API_URL
from rolegraph.errors import PoolFileError
from rolegraph.models.pool import ModelPool

SECRET = "sk-abc123secretvalue"


def _load(tmp_path, entry: dict) -> ModelPool:
    path = tmp_path / "pool.yaml"
    path.write_text(yaml.safe_dump({"models": [{"id": "ok/sim", "backend": "sim"}, entry]}))
    return ModelPool.load(path)


@pytest.mark.parametrize("entry, needles", [
    ({"id": "x/y", "backend": "openai"}, ["base_url", "required", OPENAI_API_URL]),
    ({"id": "x/y", "backend": "openai", "base_url": "127.0.0.1:18003/v1"}, ["base_url", "http://"]),
    ({"id": "x/y", "backend": "openai", "base_url": "ftp://host/v1"}, ["base_url", "ftp://"]),
])
def test_an_openai_entry_without_a_usable_base_url_is_refused_naming_it(tmp_path, entry, needles):
    with pytest.raises(PoolFileError) as err:
        _load(tmp_path, entry)
    message = str(err.value)
    assert "entry 2 (x/y)" in message and "\n" not in message
    for needle in needles:
        assert needle in message


def test_a_pasted_key_is_refused_without_being_shown(tmp_path):
    entry = {"id": "x/y", "backend": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key_env": SECRET}
    with pytest.raises(PoolFileError) as err:
        _load(tmp_path, entry)
    message = str(err.value)
    assert "entry 2 (x/y)" in message and "api_key_env" in message and "NAME of an environment variable" in message
    assert SECRET not in message and "abc123" not in message


def test_openai_itself_is_taken_when_written_out_and_builtins_mean_it(tmp_path):
    pool = _load(tmp_path, {"id": "x/y", "backend": "openai", "base_url": OPENAI_API_URL, "timeout_s": 5,
                            "max_retries": 1})
    assert pool.get("x/y").endpoint == OPENAI_API_URL and pool.get("x/y").timeout_s == 5
    builtin = pool.get("openai/gpt-4o-mini")
    assert builtin.base_url is None and builtin.endpoint == OPENAI_API_URL  # the built-in entries go there

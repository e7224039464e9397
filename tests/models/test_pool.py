"""ModelPool: the built-in pool, merging a user's YAML file, and one-line messages for bad input."""
from __future__ import annotations

from pathlib import Path

import pytest

from rolegraph.errors import MissingKeyError, PoolFileError, UnknownModelError
from rolegraph.models.pool import ModelPool
from rolegraph.settings import POOL_ENV

BUILTIN_IDS = ["sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b", "sim/llama-3.1-70b",
               "local/smollm2-135m", "openai/gpt-4o-mini"]
# Published configurations of the models the sim stands in for: (layers, hidden size).
LLAMA_SHAPES = {"sim/llama-3.2-1b": (16, 2048), "sim/llama-3.2-3b": (28, 3072), "sim/llama-3.1-8b": (32, 4096),
                "sim/llama-3.1-70b": (80, 8192)}

USER_POOL = """
models:
  - id: my/qwen-7b
    backend: openai
    base_url: http://127.0.0.1:8000/v1
    model: Qwen/Qwen2.5-7B-Instruct
    api_key_env: RG_TEST_QWEN_KEY
    params_b: 7.6
    layers: 28
    hidden: 3584
    price_in: 0.15
    price_out: 0.60
    max_concurrency: 16
  - id: sim/llama-3.2-3b
    backend: sim
    params_b: 3.21
    layers: 28
    hidden: 3072
    price_in: 0.5
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pool.yaml"
    path.write_text(text)
    return path


def test_builtin_ids_and_shapes(monkeypatch):
    monkeypatch.delenv(POOL_ENV, raising=False)
    pool = ModelPool.load()
    assert set(BUILTIN_IDS) <= set(pool.ids)
    for model_id, (layers, hidden) in LLAMA_SHAPES.items():
        spec = pool.get(model_id)
        assert spec.simulated and (spec.layers, spec.hidden) == (layers, hidden) and spec.params_b > 0
    assert pool.get("openai/gpt-4o-mini").api_key_env == "OPENAI_API_KEY"


def test_user_file_adds_and_overrides(tmp_path, monkeypatch):
    path = _write(tmp_path, USER_POOL)
    builtin = ModelPool.builtin()
    pool = ModelPool.load(path)
    assert len(pool) == len(builtin) + 1
    qwen = pool.get("my/qwen-7b")
    assert qwen.api_name == "Qwen/Qwen2.5-7B-Instruct" and qwen.cost(1_000_000, 1_000_000) == pytest.approx(0.75)
    assert pool.get("sim/llama-3.2-3b").price_in == 0.5 != builtin.get("sim/llama-3.2-3b").price_in
    monkeypatch.setenv(POOL_ENV, str(path))
    assert "my/qwen-7b" in ModelPool.load()  # the env var names the same file


@pytest.mark.parametrize("text, needles", [
    ("models:\n  - id: a/b\n    backend: openai\n    params_b: -1\n", ["entry 1 (a/b)", "params_b"]),
    ("models:\n  - {id: ok/x, backend: sim}\n  - id: c/d\n    backend: telepathy\n", ["entry 2 (c/d)", "backend"]),
    ("models:\n  - id: e/f\n    backend: sim\n    colour: blue\n", ["entry 1 (e/f)", "colour"]),
    ("models:\n  - backend: sim\n", ["entry 1", "id"]),
    ("models:\n  - just-a-string\n", ["entry 1", "mapping"]),
    ("models: [\n", ["not valid YAML"]),
    ("model_list: []\n", ["models:"]),
])
def test_malformed_file_names_file_entry_and_field(tmp_path, text, needles):
    path = _write(tmp_path, text)
    with pytest.raises(PoolFileError) as err:
        ModelPool.load(path)
    message = str(err.value)
    assert str(path) in message and "\n" not in message
    for needle in needles:
        assert needle in message


def test_missing_file_is_named(tmp_path):
    with pytest.raises(PoolFileError, match="absent.yaml"):
        ModelPool.load(tmp_path / "absent.yaml")


def test_unknown_model_suggests_close_ids():
    with pytest.raises(UnknownModelError) as err:
        ModelPool.builtin().get("sim/llama-3.2-8b")
    message = str(err.value)
    assert "sim/llama-3.2-8b" in message and "Did you mean" in message
    assert "sim/llama-3.1-8b" in message or "sim/llama-3.2-3b" in message


def test_missing_key_names_the_env_var(tmp_path, monkeypatch):
    monkeypatch.delenv("RG_TEST_QWEN_KEY", raising=False)
    pool = ModelPool.load(_write(tmp_path, USER_POOL))
    with pytest.raises(MissingKeyError, match="RG_TEST_QWEN_KEY"):
        pool.require_key("my/qwen-7b")
    assert pool.usable("my/qwen-7b") == (False, "set RG_TEST_QWEN_KEY")
    monkeypatch.setenv("RG_TEST_QWEN_KEY", "dummy")
    assert pool.require_key("my/qwen-7b").id == "my/qwen-7b"
    assert pool.usable("my/qwen-7b") == (True, "")
    assert pool.usable("sim/llama-3.2-1b") == (True, "")

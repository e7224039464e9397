"""A pool file entry's numbers and switches have their own types: `price_in: true`, `timeout_s: "20"`,
`max_concurrency: true` or `logprobs: 1` is refused in one line naming the entry and field (exit 2 from the
command line), as a graph file's numbers are, instead of being read as 1, 20.0 or True and priced silently."""
from __future__ import annotations

import pytest

from rolegraph.errors import PoolFileError
from rolegraph.models.pool import ModelPool
from tests.cli.support import run_cli

ENTRY = '{id: my/x, backend: openai, base_url: "http://127.0.0.1:9/v1", model: x, %s}'


@pytest.mark.parametrize("field, value", [
    ("price_in", "true"), ("price_out", '"0.5"'), ("timeout_s", '"20"'), ("max_concurrency", "true"),
    ("context_window", "2048.0"), ("params_b", "true"), ("logprobs", "1"), ("answer_key", '"no"'),
])
def test_a_wrongly_typed_value_is_refused(tmp_path, field, value):
    path = tmp_path / "pool.yaml"
    path.write_text(f"models:\n  - {ENTRY % f'{field}: {value}'}\n")
    with pytest.raises(PoolFileError) as info:
        ModelPool.load(path)
    assert str(info.value).startswith(f"{path}: entry 1 (my/x): field '{field}': ")


def test_the_command_line_says_it_in_one_line(tmp_path, capsys):
    path = tmp_path / "pool.yaml"
    path.write_text(f"models:\n  - {ENTRY % 'price_in: true'}\n")
    code, _, err = run_cli(capsys, "models", "--pool", path)
    assert code == 2
    line = f"error: {path}: entry 1 (my/x): field 'price_in': Input should be a valid number"
    assert err.strip().splitlines() == [line]


def test_integer_prices_and_timeouts_still_load(tmp_path):
    path = tmp_path / "pool.yaml"
    path.write_text(f"models:\n  - {ENTRY % 'price_in: 1, price_out: 2, timeout_s: 20'}\n")
    spec = ModelPool.load(path).get("my/x")
    assert (spec.price_in, spec.price_out, spec.timeout_s) == (1.0, 2.0, 20.0)

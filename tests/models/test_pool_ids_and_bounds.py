"""A pool file's ids are non-empty and each appears once; its numbers are finite and within real models' range.
All of these are one line naming the file and the entry (exit 2 from the command line), never a traceback."""
from __future__ import annotations

from pathlib import Path

import pytest

from rolegraph.errors import PoolFileError, UnknownModelError
from rolegraph.models.pool import ModelPool
from tests.cli.support import run_cli

ENTRY = '{id: my/x, backend: openai, base_url: "http://127.0.0.1:9/v1", model: x%s}'
GRAPH = "nodes:\n  - {id: a, role: solver, model: my/x}\nedges: []\n"


def _pool(tmp_path: Path, *entries: str) -> Path:
    path = tmp_path / "pool.yaml"
    path.write_text("models:\n" + "".join(f"  - {e}\n" for e in entries))
    return path


@pytest.mark.parametrize("extra, needles", [
    (", price_in: .inf", ["entry 1 (my/x)", "'price_in'", "finite"]),
    (", price_out: .nan", ["entry 1 (my/x)", "'price_out'", "finite"]),
    (", price_in: 1.0e+308, price_out: 1.0e+308", ["'price_in'", "less than or equal", "typo"]),
    (", params_b: .inf, layers: 2, hidden: 3", ["'params_b'", "finite"]),
    (", params_b: 1, layers: 100000000000000000000, hidden: 8", ["'layers'", "typo"]),
    (", params_b: 1, layers: 8, hidden: 100000000000000000000", ["'hidden'", "typo"]),
])
def test_non_finite_or_absurd_numbers_are_one_line(tmp_path, extra, needles):
    path = _pool(tmp_path, ENTRY % extra)
    with pytest.raises(PoolFileError) as err:
        ModelPool.load(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    for needle in needles:
        assert needle in message


def test_a_duplicate_id_names_both_entries(tmp_path):
    path = _pool(tmp_path, "{id: my/a, backend: sim}", ENTRY % "", ENTRY % ", price_in: 1")
    with pytest.raises(PoolFileError) as err:
        ModelPool.load(path)
    assert "entry 3 (my/x)" in str(err.value) and "already defined by entry 2" in str(err.value)


@pytest.mark.parametrize("blank", ['""', '"  "'])
def test_an_empty_id_is_refused(tmp_path, blank):
    path = _pool(tmp_path, "{id: my/a, backend: sim}", f"{{id: {blank}, backend: sim}}")
    with pytest.raises(PoolFileError) as err:
        ModelPool.load(path)
    assert "entry 2: field 'id'" in str(err.value) and "cannot be empty" in str(err.value)


def test_overriding_a_builtin_id_stays_allowed(tmp_path):
    """The docs show a pool file redefining a built-in id (openai/gpt-4o-mini); that is not a duplicate."""
    path = _pool(tmp_path, '{id: openai/gpt-4o-mini, backend: openai, base_url: "http://127.0.0.1:9/v1"}')
    assert ModelPool.load(path).get("openai/gpt-4o-mini").base_url == "http://127.0.0.1:9/v1"


@pytest.mark.parametrize("bad", [None, 5, ["sim/llama-3.2-3b"]])
def test_get_with_a_non_string_id_is_a_one_line_error(bad):
    with pytest.raises(UnknownModelError, match="a model id is a string"):
        ModelPool.builtin().get(bad)


@pytest.mark.parametrize("extra", [", price_in: .inf", ", price_in: 1.0e+308, price_out: 1.0e+308"])
def test_validate_with_such_a_pool_exits_2_with_one_line(tmp_path, capsys, extra):
    graph = tmp_path / "g.yaml"
    graph.write_text(GRAPH)
    code, _, err = run_cli(capsys, "validate", graph, "--pool", _pool(tmp_path, ENTRY % extra))
    assert code == 2 and "Traceback" not in err and "'price_in'" in err
    assert len(err.strip().splitlines()) == 1


def test_validate_with_a_duplicate_id_exits_2(tmp_path, capsys):
    graph = tmp_path / "g.yaml"
    graph.write_text(GRAPH)
    code, _, err = run_cli(capsys, "validate", graph, "--pool", _pool(tmp_path, ENTRY % "", ENTRY % ""))
    assert code == 2 and "already defined by entry 1" in err

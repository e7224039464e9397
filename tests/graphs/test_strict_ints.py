"""The counts of a graph file take integers only: `max_rounds: true` validated and ran as 1 round, and
`max_fanout: true` as 1 copy (pydantic's lax int coerces a bool). `rolegraph validate` refuses them in one
line, exit 2, as it refuses `2.5`, `0` and `21`."""
from __future__ import annotations

import pytest

from tests.cli.support import run_cli

LOOP = """name: l
nodes:
  - {{id: solve, role: solver, model: sim/llama-3.2-1b}}
  - {{id: verify, role: verifier, model: sim/llama-3.1-8b}}
edges: [[solve, verify]]
loops:
  - {{from: verify, to: solve, max_rounds: {value}, until: accepted}}
"""
FANOUT = """name: f
nodes:
  - {{id: plan, role: planner, model: sim/llama-3.2-1b}}
  - {{id: solve, role: solver, model: sim/llama-3.2-1b}}
  - {{id: fuse, role: fuser, model: sim/llama-3.1-8b}}
edges: [[plan, solve], [solve, fuse]]
fanout:
  - {{from: plan, nodes: [solve], max_fanout: {value}}}
"""
NODE_PARAM = """name: n
nodes:
  - {{id: solve, role: solver, model: sim/llama-3.2-1b, params: {{max_tokens: {value}}}}}
"""


def validate(tmp_path, capsys, text: str) -> tuple[int, str]:
    path = tmp_path / "g.yaml"
    path.write_text(text)
    code, out, err = run_cli(capsys, "validate", path)
    return code, (out + err).strip()


@pytest.mark.parametrize("value", ["true", "false", "yes", "2.5", "0", "21"])
def test_max_rounds_takes_an_integer_from_1_to_20_only(value, tmp_path, capsys):
    code, said = validate(tmp_path, capsys, LOOP.format(value=value))
    assert code == 2, said
    assert len(said.splitlines()) == 1 and "Traceback" not in said
    assert "loop 1 (verify -> solve): field 'max_rounds'" in said


@pytest.mark.parametrize("value", ["true", "false", "1.5", "0", "65"])
def test_max_fanout_takes_an_integer_from_1_to_64_only(value, tmp_path, capsys):
    code, said = validate(tmp_path, capsys, FANOUT.format(value=value))
    assert code == 2, said
    assert len(said.splitlines()) == 1 and "Traceback" not in said
    assert "fanout 1 (from plan): field 'max_fanout'" in said


def test_a_nodes_max_tokens_of_true_is_refused_too(tmp_path, capsys):
    code, said = validate(tmp_path, capsys, NODE_PARAM.format(value="true"))
    assert code == 2 and len(said.splitlines()) == 1
    assert "params.max_tokens must be a positive integer, got True" in said


@pytest.mark.parametrize("template, value, shown", [
    (LOOP, "3", "at most 3 rounds"),
    (FANOUT, "4", "up to 4 x [solve]"),
])
def test_integer_counts_still_validate(template, value, shown, tmp_path, capsys):
    code, said = validate(tmp_path, capsys, template.format(value=value))
    assert code == 0 and said.startswith("ok: "), said
    assert shown in said

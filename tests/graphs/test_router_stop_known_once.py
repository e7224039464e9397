"""A router file's unknown stop condition lists the known conditions once.

`stop: {min_agreement: 0.5, bogus: 1}` said "unknown stop condition 'bogus' (known: ...). Known: ...": the message
listed them and `did_you_mean`, finding no close match, appended its own list. A close match is still suggested.
"""
from __future__ import annotations

import re

import pytest

from rolegraph.errors import GraphError
from rolegraph.graphs.router import StopRule
from rolegraph.graphs.router_io import router_from_data
from tests.cli.support import cli

STAGES = [
    {"graph": {"nodes": [{"id": "a", "role": "solver", "model": "sim/llama-3.2-1b"}]}},
    {"graph": {"nodes": [{"id": "a", "role": "solver", "model": "sim/llama-3.2-3b"}]}},
]


def _problem(stop: dict) -> str:
    data = {"kind": "router", "name": "r", "stages": [{**STAGES[0], "stop": stop}, STAGES[1]]}
    with pytest.raises(GraphError) as refused:
        router_from_data(data)
    (line,) = [p for p in refused.value.problems if "stop condition" in p]
    return line


def test_no_close_match_lists_the_known_conditions_once():
    line = _problem({"min_agreement": 0.5, "bogus": 1})
    assert "unknown stop condition 'bogus'" in line
    for name in StopRule.model_fields:
        assert len(re.findall(rf"\b{name}\b", line)) == 1, line  # or_min_logprob holds min_logprob
    assert "Known:" not in line and line.endswith(").")


def test_a_close_match_is_still_suggested():
    line = _problem({"min_agrement": 0.5})
    assert line.endswith("Did you mean: min_agreement, min_logprob?"), line
    assert line.count("require_verified") == 1


def test_the_command_line_says_it_in_one_line(tmp_path, capsys):
    import yaml

    path = tmp_path / "router.yaml"
    path.write_text(yaml.safe_dump({"kind": "router", "name": "r",
                                    "stages": [{**STAGES[0], "stop": {"bogus": 1}}, STAGES[1]]}))
    code, _, err = cli(["validate", path], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert err.count("min_agreement") == 1, err

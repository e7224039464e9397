"""Router file mistakes `rolegraph validate` must refuse in one line naming the file, the stage and the field (exit 2):
a stop condition of the wrong type (lax pydantic read `min_agreement: true` as 1.0 and `require_verified: "yes"` as
true), a stage whose graph is itself a router, and top-level fields of the wrong type (which named the internal class
`RouterSpec` instead of the file)."""
from __future__ import annotations

import pytest

from rolegraph.errors import GraphError
from rolegraph.graphs.router import StopRule
from rolegraph.graphs.router_io import load_spec

from tests.cli.support import cli

VOTE = """name: v2
nodes:
  - {id: n0, role: solver, model: sim/llama-3.1-8b}
  - {id: n1, role: solver, model: sim/llama-3.1-8b}
  - {id: out, role: fuser, model: sim/llama-3.1-8b}
edges: [[n0, out], [n1, out]]
"""


def router_text(stop: str = "{min_agreement: 1}", graph: str = "vote.yaml", head: str = "") -> str:
    return f"kind: router\n{head}stages:\n  - stop: {stop}\n    graph: {graph}\n  - graph: vote.yaml\n"


@pytest.fixture
def write(tmp_path, monkeypatch):
    """write(text) -> the path of a router file next to a valid vote graph file."""
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    (tmp_path / "vote.yaml").write_text(VOTE)

    def go(text: str, name: str = "router.yaml"):
        path = tmp_path / name
        path.write_text(text)
        return path

    return go


def validate_line(path, capsys) -> str:
    """`rolegraph validate PATH`'s one error line, asserting exit 2 and no traceback."""
    code, out, err = cli(["validate", path], capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, (code, out, err)
    return err.strip()


@pytest.mark.parametrize("stop, line", [
    ("{min_agreement: true}", "stage 1: stop.min_agreement must be a number, got True"),
    ('{min_agreement: "0.5"}', "stage 1: stop.min_agreement must be a number, got '0.5'"),
    ("{min_agreement: 1, min_logprob: false}", "stage 1: stop.min_logprob must be a number, got False"),
    ("{min_agreement: 1, or_min_logprob: true}", "stage 1: stop.or_min_logprob must be a number, got True"),
    ('{require_verified: "yes"}', "stage 1: stop.require_verified must be true or false, got 'yes'"),
    ("{require_verified: 1}", "stage 1: stop.require_verified must be true or false, got 1"),
])
def test_a_stop_condition_of_the_wrong_type_is_one_line_naming_file_stage_and_field(write, capsys, stop, line):
    path = write(router_text(stop))
    assert validate_line(path, capsys) == f"error: {path}: {line}"


def test_numbers_of_either_kind_still_pass(write, capsys):
    path = write(router_text("{min_agreement: 1, min_logprob: -1}"))
    router = load_spec(path)
    assert router.stages[0].stop == StopRule(min_agreement=1.0, min_logprob=-1.0)
    code, _, err = cli(["validate", path], capsys)
    assert code == 0, err


def test_stop_rule_types_are_refused_from_python_too():
    with pytest.raises(GraphError, match="min_agreement"):
        StopRule(min_agreement=True)
    with pytest.raises(GraphError, match="require_verified"):
        StopRule(require_verified="yes")


def test_a_stage_whose_graph_is_a_router_file_says_so_in_a_router_authors_terms(write, capsys):
    write(router_text(), "inner.yaml")
    path = write(router_text(graph="inner.yaml"))
    line = validate_line(path, capsys)
    assert line == (f"error: {path}: stage 1: graph file inner.yaml is a router, and a stage's graph cannot be a "
                    "router: give a graph (or copy that router's stages into this one)")
    assert "load_spec" not in line and "rolegraph.graphs" not in line


def test_a_stage_whose_inline_graph_is_a_router_says_so(write, capsys):
    path = write(router_text(graph="{kind: router, stages: [{graph: vote.yaml}]}"))
    assert validate_line(path, capsys) == (
        f"error: {path}: stage 1: its graph is a router, and a stage's graph cannot be a router: give a graph (or copy "
        "that router's stages into this one)")


@pytest.mark.parametrize("head, line", [
    ("fit: hello\n", "field 'fit' must be a valid dictionary, got 'hello'"),
    ("name: [a, b]\n", "field 'name' must be a valid string, got ['a', 'b']"),
    ("description: 3\n", "field 'description' must be a valid string, got 3"),
])
def test_a_top_level_field_of_the_wrong_type_names_the_file_not_the_class(write, capsys, head, line):
    path = write(router_text(head=head))
    assert validate_line(path, capsys) == f"error: {path}: {line}"
    with pytest.raises(GraphError) as info:
        load_spec(path)
    assert info.value.source == str(path) and info.value.problems == [line]

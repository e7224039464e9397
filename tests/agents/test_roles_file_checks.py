"""Roles-file roles that could never work are refused when the file is read, in one line naming the role:
an answering role whose parser never extracts an answer, and a tool name no toolbox provides."""
from __future__ import annotations

import pytest

from rolegraph.agents.registry import RoleError
from rolegraph.agents.roles_file import load_roles, register_defs
from rolegraph.errors import RolegraphError


@pytest.mark.parametrize("role, message", [
    ("{name: critic, prompt: x, answers: true, parser: none}",
     "role 1 ('critic'): answers: true (the default) needs a parser that extracts the answer, and parser 'none' "
     "never does (every item would score 0): set answers: false, or parser: answer or verdicts"),
    ("{name: critic, prompt: x, parser: plan}", "parser 'plan' never does"),  # answers defaults to true
    ("{name: critic, prompt: x, parser: evidence}", "parser 'evidence' never does"),
    ("{name: critic, prompt: x, tools: [rm_rf]}",
     "role 1 ('critic'): unknown tool 'rm_rf' (tools: calculator, python, search, or server.tool for an MCP "
     "server's)."),
    ("{name: critic, prompt: x, tools: [calculator, pyton]}", "unknown tool 'pyton' (tools: calculator, python, "
     "search, or server.tool for an MCP server's). Did you mean: python?"),
    ("{name: critic, prompt: x, tools: [.search]}", "unknown tool '.search'"),
])
def test_a_role_that_cannot_work_is_refused_on_load(tmp_path, role, message):
    path = tmp_path / "roles.yaml"
    path.write_text(f"roles:\n  - {role}\n")
    with pytest.raises(RoleError) as info:
        load_roles(path)
    text = str(info.value)
    assert isinstance(info.value, RolegraphError) and message in text and "\n" not in text
    assert text.startswith(f"{path}: ")


def test_consistent_roles_and_mcp_tools_load(tmp_path):
    path = tmp_path / "roles.yaml"
    path.write_text(
        "roles:\n"
        "  - {name: notes, prompt: x, answers: false, parser: none}\n"
        "  - {name: outliner, prompt: x, answers: false, parser: plan}\n"
        "  - {name: judge, prompt: x, parser: verdicts, tools: [calculator, python, search]}\n"
        "  - {name: asker, prompt: x, tools: [wiki.lookup]}\n"  # an MCP server's tool: checked once it connects
    )
    reg = load_roles(path)
    assert not reg.get("notes").answers and not reg.get("outliner").answers and reg.get("judge").answers
    assert reg.get("asker").tools == ("wiki.lookup",)


def test_a_definition_stored_before_the_checks_still_loads_so_its_run_resumes(tmp_path):
    """A run stores its roles' definitions and rebuilds them on --resume, eval --add-to and reports: one made
    before these checks (a plan parser with the default answers: true, a tool unknown today) must load as it ran,
    or the run could never be resumed (--resume refuses --roles-file). The same text in a roles file is refused."""
    stored = [{"name": "outline", "prompt": "x", "parser": "plan"}, {"name": "critic", "prompt": "x", "tools": ["rm_rf"]}]
    reg = register_defs(stored)
    assert reg.get("outline").answers and reg.get("critic").tools == ("rm_rf",)
    path = tmp_path / "roles.yaml"
    path.write_text("roles:\n  - {name: outline, prompt: x, parser: plan}\n")
    with pytest.raises(RoleError, match="never does"):
        load_roles(path)

"""Roles from a file: registered on top of the built-ins, stored as data, errors in one line."""
from __future__ import annotations

import pytest

from rolegraph.agents.registry import BUILTIN_ROLES, RoleError
from rolegraph.agents.roles_file import load_role_defs, load_roles, register_defs
from rolegraph.errors import RolegraphError

ROLES = """
roles:
  - name: critic
    prompt: |
      Find the mistakes in the candidate answers and write the corrected one.
      {answer_format}
    temperature: 0.2
    max_tokens: 512
  - name: scribe
    prompt_file: scribe.md
    answers: false
    parser: none
  - {name: digger, prompt: "Write one query.", answers: false, parser: evidence, mode: search}
"""


def test_roles_are_added_to_the_builtins_with_their_settings(tmp_path):
    (tmp_path / "scribe.md").write_text("Take notes on the question.\n")
    (tmp_path / "roles.yaml").write_text(ROLES)
    reg = load_roles(tmp_path / "roles.yaml")
    assert reg.names() == (*BUILTIN_ROLES, "critic", "scribe", "digger")
    critic, scribe, digger = reg.get("critic"), reg.get("scribe"), reg.get("digger")
    assert critic.answers and critic.temperature == 0.2 and critic.max_tokens == 512
    prompt = reg.system_prompt("critic", "math")
    assert prompt.startswith("Role: critic.\nFind the mistakes") and "Final answer" in prompt
    assert "Take notes" in reg.system_prompt("scribe", "qa") and scribe.parse("Final answer: 3", "math").answer is None
    assert digger.mode == "search" and digger.tools == ("search",)
    again = register_defs(reg.definitions)  # what a run stores rebuilds the same roles
    assert again.names() == reg.names() and again.system_prompt("scribe", "qa") == reg.system_prompt("scribe", "qa")
    assert [d.name for d in load_role_defs(tmp_path / "roles.yaml")] == ["critic", "scribe", "digger"]


@pytest.mark.parametrize("text, message", [
    ("roles:\n  - {name: critic, promt: x}", "unknown field 'promt'"),
    ("roles:\n  - {name: critic}", "give exactly one of 'prompt'"),
    ("roles:\n  - {name: critic, prompt: x, prompt_file: y.md}", "give exactly one of 'prompt'"),
    ("roles:\n  - {name: critic, prompt: x, parser: json}", "role 1 ('critic'): parser"),
    ("roles:\n  - {name: solver, prompt: x}", "role 'solver' is a built-in role; pick another name"),
    ("roles:\n  - {name: 'bad name', prompt: x}", "must start with a letter"),
    ("roles:\n  - {name: critic, prompt_file: missing.md}", "cannot read prompt_file"),
    ("- just a list", "expected a mapping with 'roles:'"),
    ("roles: [", "not valid YAML"),
])
def test_mistakes_are_one_line_errors_naming_the_file(tmp_path, text, message):
    path = tmp_path / "roles.yaml"
    path.write_text(text)
    with pytest.raises(RoleError) as info:
        load_roles(path)
    assert isinstance(info.value, RolegraphError) and message in str(info.value)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(RoleError, match="roles file not found"):
        load_roles(tmp_path / "nope.yaml")

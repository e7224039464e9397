"""A roles file whose prompt misspells a slot (`{answer_fromat}`, `{tool}`) is refused when read, naming the slot
it resembles: only `{answer_format}` and `{tools}` are filled, so the misspelt one reached the model as written and
its text (the tool help) was silently left out. Braces far from a slot name stay prompt text."""
from __future__ import annotations

import pytest

from rolegraph.agents.registry import RoleError
from rolegraph.agents.roles_file import load_role_defs


@pytest.mark.parametrize("prompt, word, meant", [
    ("Fix it. {answer_fromat}", "answer_fromat", "answer_format"),
    ("Use {tool} then answer. {answer_format}", "tool", "tools"),
    ("{Tools}", "Tools", "tools"),
])
def test_a_misspelt_slot_is_refused(tmp_path, prompt, word, meant):
    path = tmp_path / "roles.yaml"
    path.write_text(f'roles:\n  - {{name: critic, prompt: "{prompt}"}}\n')
    with pytest.raises(RoleError) as info:
        load_role_defs(path)
    assert str(info.value) == (
        f"{path}: role 1 ('critic'): prompt: '{{{word}}}' is not a slot (slots: {{answer_format}}, {{tools}}) and "
        f"would reach the model as written. Did you mean {{{meant}}}?"
    )


def test_a_misspelt_slot_in_a_prompt_file_is_refused(tmp_path):
    (tmp_path / "critic.md").write_text("Check the answers.\n{tool}\n")
    path = tmp_path / "roles.yaml"
    path.write_text("roles:\n  - {name: critic, prompt_file: critic.md}\n")
    with pytest.raises(RoleError, match=r"prompt_file .*critic\.md: prompt: '\{tool\}' is not a slot"):
        load_role_defs(path)


def test_other_braces_are_prompt_text(tmp_path):
    path = tmp_path / "roles.yaml"
    prompt = 'Write {answer} as {\"x\": 1}; {format} {answer_format} {tools}'
    path.write_text(f"roles:\n  - {{name: critic, prompt: '{prompt}'}}\n")
    (role,) = load_role_defs(path)
    assert role.prompt is not None and "{answer}" in role.prompt

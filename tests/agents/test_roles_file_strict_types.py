"""A roles file's numbers are numbers: `temperature: true` or `max_tokens: "768"` is refused in one line, as a graph
file's `params: {temperature: true}` is, instead of being read as 1 (pydantic's lax coercion)."""
from __future__ import annotations

import pytest

from rolegraph.agents.registry import RoleError
from rolegraph.agents.roles_file import load_role_defs


@pytest.mark.parametrize("field, value", [
    ("temperature", "true"), ("temperature", '"0.2"'), ("max_tokens", "true"), ("max_tokens", '"768"'),
    ("max_tokens", "768.0"), ("answers", "1"), ("answers", '"yes"'),
])
def test_a_wrongly_typed_value_is_refused_naming_the_role_and_field(tmp_path, field, value):
    path = tmp_path / "roles.yaml"
    path.write_text(f"roles:\n  - {{name: critic, prompt: 'x {{answer_format}}', {field}: {value}}}\n")
    with pytest.raises(RoleError) as info:
        load_role_defs(path)
    text = str(info.value)
    assert text.startswith(f"{path}: role 1 ('critic'): {field}: ") and "\n" not in text


def test_an_integer_temperature_is_still_a_number(tmp_path):
    path = tmp_path / "roles.yaml"
    path.write_text("roles:\n  - {name: critic, prompt: 'x {answer_format}', temperature: 1, max_tokens: 300}\n")
    (role,) = load_role_defs(path)
    assert (role.temperature, role.max_tokens) == (1.0, 300)

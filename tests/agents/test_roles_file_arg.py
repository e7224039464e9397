"""`load_roles` / `load_role_defs` given something that is not a path: the one-line `RoleError` a bad roles file
gets, naming the function, its argument and the type given, never a bare TypeError from `Path(None)` (nor a
message prefixed 'None: ')."""

from __future__ import annotations

import pytest

from rolegraph.agents.registry import RoleError
from rolegraph.agents.roles_file import load_role_defs, load_roles
from rolegraph.errors import RolegraphError


@pytest.mark.parametrize("function", [load_roles, load_role_defs])
@pytest.mark.parametrize(
    ("bad", "given"), [(None, "got None"), (3, "got int 3"), ({}, "got dict {}"), (b"r.yaml", "got bytes b'r.yaml'")]
)
def test_a_non_path_names_the_function_the_argument_and_the_type(function, bad, given):
    with pytest.raises(RoleError) as info:
        function(bad)
    text = str(info.value)
    assert text == f"{function.__name__}: path must be a file path (str or pathlib.Path), {given}"
    assert isinstance(info.value, RolegraphError)


def test_a_real_path_still_loads(tmp_path):
    path = tmp_path / "roles.yaml"
    path.write_text("roles:\n  - name: critic2\n    prompt: Find the flaws. {answer_format}\n")
    assert "critic2" in load_roles(path).names()
    assert [d.name for d in load_role_defs(str(path))] == ["critic2"]

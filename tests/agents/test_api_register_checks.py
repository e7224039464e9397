"""`RoleRegistry.register` from Python gets the checks a roles file gets (through the same `RoleDef` model),
each a one-line RoleError, and a role given as data alone is kept in `definitions` so a run can store it."""
from __future__ import annotations

import pytest

from rolegraph.agents.parsers import parse_answer
from rolegraph.agents.registry import RoleError, RoleRegistry
from rolegraph.agents.roles_file import register_defs
from rolegraph.errors import RolegraphError

CRITIC = "Find the mistakes in the candidate answers and write the corrected answer.\n{answer_format}"


@pytest.mark.parametrize("kwargs, needle", [
    ({"temperature": -4}, "temperature"),
    ({"temperature": 2.5}, "temperature"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"max_tokens": "lots"}, "max_tokens"),
    ({"max_tokens": 1.5}, "max_tokens"),
    ({"tools": "calculator"}, "tools"),
    ({"parser": "answr"}, "unknown parser 'answr'"),
])
def test_bad_arguments_are_one_line_role_errors_at_registration(kwargs, needle):
    reg = RoleRegistry.default()
    with pytest.raises(RoleError, match=needle) as info:
        reg.register("critic", CRITIC, **kwargs)
    assert isinstance(info.value, RolegraphError) and "\n" not in str(info.value)
    assert str(info.value).startswith("role 'critic': ")
    assert "critic" not in reg  # nothing half-registered


def test_good_arguments_still_register_with_their_values():
    role = RoleRegistry.default().register("critic", CRITIC, temperature=0, max_tokens=64, tools=["calculator"])
    assert (role.temperature, role.max_tokens, role.tools) == (0.0, 64, ("calculator",))


def test_a_template_role_is_stored_and_rebuilds_the_same_prompt():
    reg = RoleRegistry.default()
    reg.register("critic", CRITIC, temperature=0.2)
    reg.register("planner2", "Plan the steps.", answers=False, parser="plan")
    assert [d["name"] for d in reg.definitions] == ["critic", "planner2"]
    again = register_defs(reg.definitions)
    for name in ("critic", "planner2"):
        assert again.system_prompt(name, "math") == reg.system_prompt(name, "math")
        assert again.get(name).temperature == reg.get(name).temperature
    assert again.definitions == reg.definitions  # stored again as it was, once


def test_a_role_with_a_python_parser_is_not_stored_and_replacing_drops_the_stale_definition():
    reg = RoleRegistry.default()
    reg.register("critic", CRITIC)
    reg.register("critic", CRITIC, parser=lambda text: parse_answer(text, "math"), replace_existing=True)
    assert reg.definitions == []  # the stored template would rebuild another role than the one registered
    reg.register("solver", "Solve it tersely.", replace_existing=True)
    assert reg.definitions == []  # a built-in name: a stored definition could not be registered again

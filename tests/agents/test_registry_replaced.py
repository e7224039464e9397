"""`RoleRegistry.replaced_builtins`: which built-in role names a registry holds another role under (what a run
directory cannot store, so the search warns of them as it starts)."""
from __future__ import annotations

from rolegraph.agents.parsers import parse_answer
from rolegraph.agents.registry import RoleRegistry


def test_the_default_registry_and_one_with_roles_of_its_own_replace_nothing():
    reg = RoleRegistry.default()
    assert reg.replaced_builtins() == ()
    reg.register("critic", "Find the mistakes.\n{answer_format}")
    assert reg.replaced_builtins() == ()


def test_a_built_in_registered_over_is_named_among_the_names_asked_about():
    reg = RoleRegistry.default()
    reg.register("solver", "Solve it tersely.\n{answer_format}", replace_existing=True)
    reg.register("verifier", "Check it.\n{answer_format}", parser=lambda text: parse_answer(text, "math"),
                 replace_existing=True)
    assert reg.replaced_builtins() == ("solver", "verifier")
    assert reg.replaced_builtins(["fuser", "verifier", "critic"]) == ("verifier",)
    assert reg.copy().replaced_builtins(["solver"]) == ("solver",)


def test_a_built_in_name_on_a_registry_not_made_by_default_is_another_role():
    reg = RoleRegistry()
    reg.register("solver", "Solve it.\n{answer_format}")
    assert reg.replaced_builtins() == ("solver",)

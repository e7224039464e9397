from pathlib import Path

import pytest

from rolegraph.agents.parsers import RoleOutput
from rolegraph.agents.registry import (BUILTIN_ROLES, RoleError, RoleRegistry, UnknownRoleError,
                                       builtin_role_names)
from rolegraph.errors import RolegraphError
from rolegraph.transcript import read_role


def test_default_has_the_builtins_with_prompts_starting_with_their_role_line():
    reg = RoleRegistry.default()
    assert reg.names() == BUILTIN_ROLES == builtin_role_names()
    for name in BUILTIN_ROLES:
        prompt = reg.system_prompt(name, "math")
        assert prompt.splitlines()[0] == f"Role: {name}."
        assert read_role(prompt) == name
        assert "{answer_format}" not in prompt and "{tools}" not in prompt


def test_answer_format_follows_the_kind_only_for_answering_roles():
    reg = RoleRegistry.default()
    assert "A, B, C or D" in reg.system_prompt("solver", "mmlu")
    assert "```python" in reg.system_prompt("fuser", "code")
    assert reg.system_prompt("solver", "nonsense") == reg.system_prompt("solver", "auto")
    assert "Final answer" not in reg.system_prompt("planner", "math")
    assert reg.get("searcher").mode == "search" and reg.get("searcher").tools == ("search",)


def test_registries_are_independent():
    a, b = RoleRegistry.default(), RoleRegistry.default()
    a.register("critic", "Criticise the inputs.", answers=False)
    assert "critic" in a and "critic" not in b


def test_register_from_text_and_path_with_one_argument_parser(tmp_path):
    reg = RoleRegistry.default()
    path = tmp_path / "critic.md"
    path.write_text("You are a harsh critic.\n{answer_format}\n")
    role = reg.register("critic", path, parser=lambda text: text.split("VERDICT=")[-1].strip())
    prompt = reg.system_prompt("critic", "qa")
    assert prompt.startswith("Role: critic.\nYou are a harsh critic.") and "Final answer" in prompt
    assert role.parse("blah VERDICT=yes", "qa").answer == "yes"
    inline = reg.register("scribe", "Role: scribe.\nTake notes.", answers=False)
    assert inline.template.count("Role: scribe.") == 1
    assert inline.parse("Final answer: 3", "math").answer is None


def test_parser_may_return_fields_dict_or_role_output():
    reg = RoleRegistry()
    r1 = reg.register("a", "A.", parser=lambda text, kind: {"answer": 7, "score": 0.5})
    r2 = reg.register("b", "B.", parser=lambda text, kind: RoleOutput(text.upper(), "x", {"k": kind}))
    out1, out2 = r1.parse("t", "math"), r2.parse("t", "math")
    assert (out1.answer, out1.fields) == ("7", {"score": 0.5})
    assert (out2.text, out2.answer, out2.fields) == ("T", "x", {"k": "math"})
    r3 = reg.register("c", "C.", parser=lambda text, kind: 3)
    with pytest.raises(RoleError, match="returned int"):
        r3.parse("t", "math")


@pytest.mark.parametrize("name,template,match", [
    ("bad name", "x", "must start with a letter"),
    ("solver", "x", "^role 'solver' is a built-in role; pick another name$"),
    ("empty", "   ", "empty"),
    ("missing", Path("/nonexistent/prompt.md"), "cannot read prompt template"),
])
def test_registration_errors_are_one_line_user_errors(name, template, match):
    reg = RoleRegistry.default()
    with pytest.raises(RoleError, match=match) as info:
        reg.register(name, template)
    assert isinstance(info.value, RolegraphError) and "\n" not in str(info.value)


def test_replace_existing_and_unknown_role_suggestion():
    reg = RoleRegistry.default()
    reg.register("solver", "Solve it tersely.", replace_existing=True)
    assert "tersely" in reg.system_prompt("solver", "math")
    with pytest.raises(UnknownRoleError, match="Did you mean: solver"):
        reg.get("solvr")


def test_a_second_role_of_the_same_name_is_refused_without_python_advice():
    """The message reaches roles-file users on the command line: no Python argument in it."""
    reg = RoleRegistry.default()
    reg.register("critic", "Criticise.")
    with pytest.raises(RoleError) as info:
        reg.register("critic", "Criticise again.")
    assert str(info.value) == "role 'critic' is already registered; pick another name"
    assert "replace_existing" not in str(info.value)


@pytest.mark.parametrize("name", ["批评家", "éditeur", "1critic"])
def test_a_name_must_start_with_an_ascii_letter_and_says_so(name):
    """The transcript's 'Role: <name>.' line (what the simulator and any prompt reader go by) starts with an
    ASCII letter or '_': a name starting otherwise is refused, and the message says ASCII, since 批 is a letter."""
    with pytest.raises(RoleError, match=r"must start with a letter \(A-Z or a-z\) or '_'") as info:
        RoleRegistry.default().register(name, "Criticise.")
    assert repr(name) in str(info.value) and "\n" not in str(info.value)


def test_letters_after_the_first_may_be_any_script_and_the_role_line_reads_the_name_back():
    reg = RoleRegistry.default()
    reg.register("critic_批评家", "Criticise.")
    assert read_role(reg.system_prompt("critic_批评家", "math")) == "critic_批评家"

"""Space messages that agree with each other and name where the problem is: a staged space's minimum budget,
an unknown model in a space file (the file and the stage), a directory given as a space file."""
from __future__ import annotations

import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.space_file import SpaceFileError, load_space, read_space_file
from rolegraph.optimize.stages import Stage, StageOutput

S1, S3, S8 = "sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b"


def _staged(pool, budget):
    stages = (Stage("search", "searcher", (S1, S3), (1, 2)), Stage("solve", "solver", (S3, S8), (2, 3)))
    return SearchSpace(pool=pool, models=(), budget=budget, family="qa", stages=stages,
                       stage_output=StageOutput(("fuser",), (S8,)))


def _minimum(message: str) -> float:
    return float(message.split("smallest feasible budget is ")[1].split()[0])


def test_a_staged_space_names_one_true_minimum_budget_however_small_the_budget(pool):
    """Too small for every single node, and too small only for the stages: the same minimum, and it fits."""
    with pytest.raises(SearchError) as tiny:
        _staged(pool, 0.5)
    with pytest.raises(SearchError) as small:
        _staged(pool, 10.0)
    assert "too small for the stages" in str(tiny.value) and "\n" not in str(tiny.value)
    assert _minimum(str(tiny.value)) == _minimum(str(small.value)) > 10.0
    space = _staged(pool, _minimum(str(tiny.value)) * 1.001)  # the minimum it names is enough
    assert space.smallest_feasible_budget() == pytest.approx(space.cost(space.smallest_staged()))


STAGED = """\
stages:
  - {{name: plan, role: planner, models: [{plan}], width: [0, 1]}}
  - {{name: search, role: searcher, models: [{search}], width: [1, 2]}}
  - {{name: solve, role: solver, width: [1, 2]}}
output: {{roles: [fuser], models: [{out}]}}
models: [{top}]
"""


@pytest.mark.parametrize(("where", "section"), [
    ("search", "stage 2 ('search')"),
    ("plan", "stage 1 ('plan')"),
    ("out", "output"),
    ("top", "models"),
])
def test_an_unknown_model_names_the_file_and_the_stage(pool, tmp_path, where, section):
    models = {"plan": S8, "search": S1, "out": S8, "top": S3} | {where: "sim/llama-3.2-3bb"}
    path = tmp_path / "space.yaml"
    path.write_text(STAGED.format(**models))
    with pytest.raises(SpaceFileError) as info:
        load_space(path, pool, budget=80.0)
    message = str(info.value)
    assert message.startswith(f"{path}: {section}: unknown model 'sim/llama-3.2-3bb'.") and "\n" not in message


def test_a_directory_is_not_a_space_file(tmp_path):
    with pytest.raises(SpaceFileError, match="is a directory, not a space file"):
        read_space_file(tmp_path)


# --- what the user wrote, not what the space derived from it ---------------------------------------------

@pytest.mark.parametrize(("text", "expected", "wrong"), [
    # an empty output list in a staged file: the stages' roles are not "the roles" the user listed
    ("models: [{m}]\nstages:\n  - {{name: s, role: solver, width: 1}}\noutput: {{roles: []}}\n",
     "the output node's roles are empty: list at least one that answers (solver, verifier, fuser)",
     "the roles solver include none"),
    # an empty roles list: no dangling "the roles  include"
    ("models: [{m}]\nroles: []\n",
     "roles is empty: list at least one role that answers (solver, verifier, fuser)", "the roles  include"),
    # a staged file cannot set max_nodes: say the widths add up to too much
    ("models: [{m}]\nbudget: 1000\nstages:\n" + "".join(f"  - {{{{name: s{i}, role: solver, width: 16}}}}\n"
                                                       for i in range(5)),
     "the stages' widths add up to 80 worker nodes (16 + 16 + 16 + 16 + 16); with the output node that is 81 "
     "nodes, more than the limit of 64", "max nodes"),
])
def test_space_messages_name_what_the_file_says(pool, tmp_path, text, expected, wrong):
    path = tmp_path / "space.yaml"
    path.write_text(text.format(m=S1))
    with pytest.raises(SearchError) as info:
        load_space(path, pool)
    message = str(info.value)
    assert expected in message and wrong not in message and "\n" not in message


def test_roles_that_all_write_no_answer_are_still_listed(pool):
    with pytest.raises(SearchError, match=r"the roles planner, searcher include none that answers \(solver, "):
        SearchSpace(pool=pool, models=(S1,), roles=("planner", "searcher"))


def test_a_free_form_space_still_names_max_nodes(pool):
    with pytest.raises(SearchError, match="max nodes must be between 1 and 64, got 65"):
        SearchSpace(pool=pool, models=(S1,), max_nodes=65)

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

"""A space file's numbers and switches have their own types: `width: true`, `budget: "30"`, `max_nodes: true` or
`same_model: 1` is refused in one line naming the stage and field, as graph files refuse `max_rounds: true`,
instead of being read as 1, 30.0 or True (pydantic's lax coercion) and searched silently."""
from __future__ import annotations

import pytest

from rolegraph.optimize.space_file import SpaceFileError, read_space_file

STAGED = "models: [sim/llama-3.2-1b]\nstages:\n  - {name: a, role: solver, %s}\n"
FREE = "models: [sim/llama-3.2-1b]\nroles: [solver]\n%s\n"


@pytest.mark.parametrize("text, needle", [
    (STAGED % "width: true", "stage 1 ('a'): width: "),
    (STAGED % "width: [1, true]", "stage 1 ('a'): width"),
    (STAGED % "same_model: 1", "stage 1 ('a'): same_model: "),
    (FREE % 'budget: "30"', "budget: "),
    (FREE % "max_nodes: true", "max_nodes: "),
    (FREE % "max_nodes: 3.0", "max_nodes: "),
    (FREE % "worker_edges: 1", "worker_edges: "),
])
def test_a_wrongly_typed_value_is_refused(tmp_path, text, needle):
    path = tmp_path / "space.yaml"
    path.write_text(text)
    with pytest.raises(SpaceFileError) as info:
        read_space_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and needle in message and "\n" not in message


def test_integer_budget_and_widths_still_load(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text("budget: 30\n" + STAGED % "width: [0, 2], same_model: false")
    sf = read_space_file(path)
    assert sf.budget == 30.0 and sf.stages is not None and sf.stages[0].widths == (0, 2)


@pytest.mark.parametrize("name", ['""', '"  "'])
def test_a_blank_stage_name_is_refused(tmp_path, name):
    path = tmp_path / "space.yaml"
    path.write_text(STAGED.replace("name: a", f"name: {name}") % "width: 1")
    with pytest.raises(SpaceFileError) as info:
        read_space_file(path)
    assert str(info.value) == (
        f"{path}: stage 1: name: a stage needs a name (it labels the stage in the search's output), e.g. name: solve"
    )

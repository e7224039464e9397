"""Space files: free-form or staged spaces in YAML, validated with one-line errors naming the file."""
from __future__ import annotations

from pathlib import Path

import pytest

from rolegraph.errors import RolegraphError
from rolegraph.optimize.space_file import SpaceFileError, load_space, read_space_file

EXAMPLE = Path(__file__).parents[2] / "examples" / "spaces" / "hotpotqa_stages.yaml"

FREE = """
models: [sim/llama-3.2-1b, sim/llama-3.2-3b]
roles: [solver, critic, fuser]
max_nodes: 4
roles_file: roles.yaml
budget: 12
"""
ROLES = "roles:\n  - {name: critic, prompt: 'Correct the answers above.'}\n"


def test_the_example_is_a_staged_space(pool):
    space = load_space(EXAMPLE, pool, family="qa")
    assert [st.name for st in space.stages] == ["plan", "search", "solve"]
    assert space.stages[0].widths == (0, 1) and space.stages[2].models == space.models
    assert space.output_roles == ("fuser", "verifier") and space.budget == 30
    assert load_space(EXAMPLE, pool, family="qa", budget=20).budget == 20  # an explicit budget wins


def test_a_free_form_file_with_its_own_roles(pool, tmp_path):
    (tmp_path / "roles.yaml").write_text(ROLES)
    (tmp_path / "space.yaml").write_text(FREE)
    space = load_space(tmp_path / "space.yaml", pool)
    assert space.roles == ("solver", "critic", "fuser") and space.max_nodes == 4 and space.budget == 12
    assert "critic" in space.output_roles and not space.stages


@pytest.mark.parametrize("text, message", [
    ("stages:\n  - {name: s, role: solver, models: [sim/llama-3.2-1b], widht: 2}",
     "stage 1 ('s'): unknown field 'widht'"),
    ("stages:\n  - {name: s, role: solver}", "stage 's' lists no models"),
    ("stages:\n  - {name: s, role: solver, models: [sim/llama-3.2-1b], width: [0]}", "width 0 only"),
    ("stages:\n  - {name: s, role: solver, models: [sim/llama-3.2-1b], width: 99}", "widths must be between"),
    ("models: [sim/llama-3.2-1b]\nroles: [solver]\nstages: [{name: s, role: solver}]", "drop roles"),
    ("models: [sim/llama-3.2-1b]\noutput: {roles: [fuser]}", "'output' belongs to a staged space"),
    ("roles: [solver]", "needs 'models'"),
    ("stages: []", "'stages' is empty"),
    ("models: [sim/llama-3.2-1b]\nbudget: -3", "budget"),
    ("models: [sim/llama-3.2-1b]\nmax_nodse: 3", "Did you mean: max_nodes"),
    ("stages:\n  - {name: s, role: solver, models: [sim/llama-3.2-1bb]}", "sim/llama-3.2-1b"),
    ("stages:\n  - {name: s, role: solver, models: [sim/llama-3.2-1b]}\noutput: {roles: [planner]}",
     "writes no final answer"),
    ("stages:\n  - {name: s, role: critic, models: [sim/llama-3.2-1b]}", "unknown role 'critic'"),
    ("models: [", "not valid YAML"),
    ("[1, 2]", "expected a mapping"),
])
def test_mistakes_are_one_line_errors_naming_the_file(pool, tmp_path, text, message):
    path = tmp_path / "space.yaml"
    path.write_text(text)
    with pytest.raises(RolegraphError) as info:
        load_space(path, pool)
    assert message in str(info.value) and str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_missing_file(tmp_path):
    with pytest.raises(SpaceFileError, match="space file not found"):
        read_space_file(tmp_path / "none.yaml")

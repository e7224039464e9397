"""--roles-file beside a space file's own roles_file: the same file named twice is read once; two files that
define the same role are one line naming both; a role named like a built-in one says so, with no Python in it."""
from __future__ import annotations

from pathlib import Path

import pytest

from rolegraph.cli.space_opts import search_space
from rolegraph.errors import SearchError
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.objectives import Objective

from .support import cli

CRITIC = "roles:\n  - {name: critic, prompt: 'Fix the answers above. {answer_format}', parser: answer}\n"
OTHER_CRITIC = "roles:\n  - {name: critic, prompt: 'Comment on the answers above. {answer_format}'}\n"
SPACE = "models: [sim/llama-3.2-1b, sim/llama-3.2-3b]\nroles: [solver, critic]\nroles_file: {roles}\n"


def _space(space_file, roles_file):
    return search_space(ModelPool.builtin(), "math", space_file, roles_file, None, None, None, None, None, Objective())


def test_the_space_files_roles_file_given_again_as_roles_file_is_read_once(tmp_path, monkeypatch):
    (tmp_path / "rA.yaml").write_text(CRITIC)
    (tmp_path / "sp.yaml").write_text(SPACE.format(roles="rA.yaml"))
    monkeypatch.chdir(tmp_path)  # the relative --roles-file names the same file the space file does
    space = _space(tmp_path / "sp.yaml", Path("rA.yaml"))
    assert space.roles == ("solver", "critic")
    assert [d["name"] for d in space.registry.definitions] == ["critic"]  # one definition, not two


def test_two_roles_files_defining_the_same_role_name_both(tmp_path):
    (tmp_path / "rA.yaml").write_text(CRITIC)
    (tmp_path / "rC.yaml").write_text(OTHER_CRITIC)
    (tmp_path / "sp.yaml").write_text(SPACE.format(roles="rA.yaml"))
    with pytest.raises(SearchError) as info:
        _space(tmp_path / "sp.yaml", tmp_path / "rC.yaml")
    message = str(info.value)
    assert "role 'critic' is defined both in --roles-file" in message and "rC.yaml" in message
    assert "rA.yaml" in message and "replace_existing" not in message and "\n" not in message


def test_on_the_command_line_the_same_file_twice_runs_and_a_builtin_name_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rA.yaml").write_text(CRITIC)
    (tmp_path / "clash.yaml").write_text("roles:\n  - {name: solver, prompt: 'x {answer_format}'}\n")
    (tmp_path / "sp.yaml").write_text(SPACE.format(roles="rA.yaml"))
    tiny = ["--task", "gsm", "--task-size", "40", "--optimizer", "random", "--iterations", "1", "--samples", "2",
            "--batch", "2", "--validation-items", "2", "--test-items", "2"]
    code, out, err = cli(["optimize", *tiny, "--space", "sp.yaml", "--roles-file", "rA.yaml", "--out", "a"], capsys)
    assert code == 0, err
    code, out, err = cli(["optimize", *tiny, "--roles-file", "clash.yaml", "--out", "b"], capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "role 'solver' is a built-in role; pick another name" in err and "replace_existing" not in err
    assert not (tmp_path / "b").exists()


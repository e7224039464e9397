"""`--init-from` and `--resume` given a file: it exists, so "no such run directory" was wrong; one line, exit 2."""
from __future__ import annotations

import pytest

from .support import cli


@pytest.mark.parametrize("args", [["--task", "gsm", "--out", "never", "--init-from"], ["--resume"]])
def test_a_file_is_not_a_run_directory(tmp_path, capsys, monkeypatch, args):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("a file\n")
    code, out, err = cli(["optimize", *args, tmp_path / "notes.txt"], capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert f"{tmp_path / 'notes.txt'} is a file, not a run directory" in err and "no such" not in err
    assert not (tmp_path / "never").exists()


def test_a_missing_path_is_still_no_such_run_directory(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    code, out, err = cli(["optimize", "--resume", tmp_path / "gone"], capsys)
    assert code == 2 and "no such run directory" in err

"""A directory given as the pool file is named as one, as graph and data files say: "pool file not found" sent the
user looking for a file that was there."""
from __future__ import annotations

import pytest

from rolegraph.errors import PoolFileError
from rolegraph.models.pool import ModelPool
from rolegraph.settings import POOL_ENV
from tests.cli.support import cli


def test_a_directory_is_named_as_one(tmp_path):
    folder = tmp_path / "dir.yaml"
    folder.mkdir()
    with pytest.raises(PoolFileError) as refused:
        ModelPool.load(folder)
    assert str(refused.value) == f"{folder}: is a directory, not a pool file (give the YAML file in it)"


def test_a_missing_file_is_still_not_found(tmp_path):
    with pytest.raises(PoolFileError, match="pool file not found"):
        ModelPool.load(tmp_path / "none.yaml")


@pytest.mark.parametrize("via", ["--pool", POOL_ENV])
def test_the_command_line_says_it_in_one_line(tmp_path, capsys, monkeypatch, via):
    folder = tmp_path / "dir.yaml"
    folder.mkdir()
    argv = ["models", "--pool", folder] if via == "--pool" else ["models"]
    if via == POOL_ENV:
        monkeypatch.setenv(POOL_ENV, str(folder))
    code, _, err = cli(argv, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "is a directory" in err and "not found" not in err, err

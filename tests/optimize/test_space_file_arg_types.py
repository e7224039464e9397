"""`load_space` / `build_space` / `read_space_file` from Python with a wrongly typed pool or path: one-line
SearchError, not an AttributeError deep in the model checks."""
from __future__ import annotations

import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize.space_file import SpaceFileError, build_space, load_space, read_space_file

SPACE = "models: [sim/llama-3.2-1b, sim/llama-3.2-3b]\nroles: [solver, fuser]\nmax_nodes: 3\n"


@pytest.mark.parametrize("pool", [None, ["sim/llama-3.2-1b"], "pool.yaml"])
def test_a_pool_that_is_not_a_model_pool_is_refused(tmp_path, pool):
    path = tmp_path / "space.yaml"
    path.write_text(SPACE)
    with pytest.raises(SearchError, match="pool must be a ModelPool"):
        load_space(path, pool)
    with pytest.raises(SearchError, match="pool must be a ModelPool"):
        build_space(read_space_file(path), pool)


@pytest.mark.parametrize("path", [None, 5])
def test_a_path_that_is_not_a_path_is_refused(path):
    with pytest.raises(SpaceFileError, match="a space file is a path"):
        read_space_file(path)

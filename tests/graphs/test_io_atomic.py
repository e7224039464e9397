"""Graph and router files are written whole: a failure (or a kill) mid-write leaves the old file as it was, never a
truncated best_graph.yaml or router.yaml; otherwise saving behaves as writing the file in place did."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rolegraph.errors import GraphError
from rolegraph.graphs.builder import Graph
from rolegraph.graphs.io import load_graph, save_graph
from rolegraph.graphs.router import RouterSpec, Stage, StopRule
from rolegraph.graphs.router_io import load_router, save_router

FIXTURES = Path(__file__).parent / "fixtures"
B8 = "sim/llama-3.1-8b"


def _router() -> RouterSpec:
    one = Graph("one").node("n0", "solver", B8).build()
    return RouterSpec(name="r", stages=[Stage(graph=one, stop=StopRule(min_agreement=1.0)), Stage(graph=one)])


def _save_graph(path: Path) -> None:
    save_graph(load_graph(FIXTURES / "valid_vote3.yaml"), path)


def _save_router(path: Path) -> None:
    save_router(_router(), path)


SAVERS = pytest.mark.parametrize("save", [_save_graph, _save_router], ids=["graph", "router"])


@SAVERS
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_failed_save_leaves_the_old_file_whole(tmp_path, monkeypatch, save, suffix):
    path = tmp_path / f"best{suffix}"
    path.write_text("the previous file\n")

    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(GraphError, match="cannot write the file"):
        save(path)
    assert path.read_text() == "the previous file\n"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left behind


@SAVERS
def test_the_new_file_replaces_the_old_by_rename(tmp_path, save):
    path = tmp_path / "best.yaml"
    path.write_text("old\n")
    inode = path.stat().st_ino
    save(path)
    assert path.stat().st_ino != inode
    assert path.read_text() != "old\n"


def test_saved_files_read_back(tmp_path):
    spec = load_graph(FIXTURES / "valid_vote3.yaml")
    assert load_graph(save_graph(spec, tmp_path / "g.yaml")) == spec
    assert load_router(save_router(_router(), tmp_path / "r.yaml")) == _router()


@SAVERS
def test_a_missing_directory_is_still_a_one_line_error_and_not_made(tmp_path, save):
    with pytest.raises(GraphError, match="cannot write the file"):
        save(tmp_path / "no" / "such" / "x.yaml")
    assert not (tmp_path / "no").exists()


@SAVERS
def test_a_symlinked_file_is_written_through_and_keeps_its_mode(tmp_path, save):
    real = tmp_path / "real.yaml"
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    save(link)
    assert link.is_symlink() and real.read_text() != "old\n"
    assert real.stat().st_mode & 0o777 == 0o640

"""`route fit --out` never writes over a file the run directory owns: a router over results.sqlite destroyed the
paired outcomes and one over best_graph.yaml replaced the search's answer, both with exit 0."""
from __future__ import annotations

import os
import shutil

import pytest

from tests.cli.support import cli
from tests.conftest import copy_search


@pytest.fixture(scope="module")
def finished(tiny_search, tmp_path_factory):
    """One tiny finished search with its paired outcomes (copied by each test before it writes)."""
    return copy_search(tiny_search, tmp_path_factory.mktemp("out-guard"))


@pytest.fixture
def run_dir(finished, tmp_path, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(finished / "home"))
    shutil.copytree(finished / "run", tmp_path / "run")
    return tmp_path / "run"


def _refused(run_dir, out, owner, capsys):
    before = (run_dir / owner).read_bytes()
    code, stdout, err = cli(["route", "fit", run_dir, "--out", out], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and owner in err and "Traceback" not in err
    assert (run_dir / owner).read_bytes() == before


@pytest.mark.parametrize("owner", ["results.sqlite", "run.sqlite", "best_graph.yaml", "trace.json", "report.md",
                                   "pareto.png"])
def test_an_out_naming_a_run_file_is_refused_and_the_file_kept(run_dir, owner, capsys):
    _refused(run_dir, run_dir / "." / owner, owner, capsys)


def test_a_symlink_or_hard_link_to_a_run_file_is_refused(run_dir, tmp_path, capsys):
    (tmp_path / "link.sqlite").symlink_to(run_dir / "results.sqlite")
    _refused(run_dir, tmp_path / "link.sqlite", "results.sqlite", capsys)
    os.link(run_dir / "best_graph.yaml", tmp_path / "hard.yaml")
    _refused(run_dir, tmp_path / "hard.yaml", "best_graph.yaml", capsys)


def test_the_outcomes_still_fit_after_a_refusal_and_router_yaml_stays_allowed(run_dir, capsys):
    _refused(run_dir, run_dir / "results.sqlite", "results.sqlite", capsys)
    code, _, err = cli(["route", "fit", run_dir, "--out", run_dir / "router.yaml"], capsys)
    assert code == 0, err
    assert "kind: router" in (run_dir / "router.yaml").read_text()

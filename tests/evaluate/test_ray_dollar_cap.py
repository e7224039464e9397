"""`--max-dollars` under `--executor ray`: the cap is never passed (each chunk runs within an allowance carved
out of what is left), the stop is exit code 2 with one honest line, and a cap that is not reached changes
nothing a search computes. One local Ray instance for the module (the `cluster` fixture of test_executors)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from rolegraph.cli import main
from tests.evaluate.test_executors import cluster  # noqa: F401 - the module's one Ray instance

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'rolegraph[ray]')")

OPTIMIZE = ["optimize", "--task", "gsm", "--task-size", "60", "--iterations", "2", "--samples", "2", "--batch", "4",
            "--validation-items", "4", "--test-items", "6", "--max-nodes", "4", "--executor", "ray"]
TINY_CAP = 0.0002  # dollars: a small share of what this search pays on the sim pool's prices (asserted below)
GENEROUS_CAP = 100.0  # dollars: far above anything this search can pay


def _stored_paid(run_dir: Path) -> float:
    """The paid dollars the run store recorded for the search (what `--resume` counts against the cap)."""
    with sqlite3.connect(run_dir / "run.sqlite") as db:
        (value,) = db.execute("SELECT value FROM meta WHERE key = 'paid_usd'").fetchone()
    return float(value)


def _search(tmp_path: Path, monkeypatch, capsys, name: str, *extra: str) -> tuple[int, dict | str, Path]:
    """(exit code, JSON summary or the stderr text, run dir) of a search with its own home (its own cache)."""
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / f"home-{name}"))
    out = tmp_path / name
    code = 0
    try:
        main([*OPTIMIZE, "--json", "--out", str(out), *extra])
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if code == 0 else captured.err), out


def test_cap_is_never_passed_and_an_unreached_cap_changes_nothing(cluster, tmp_path, monkeypatch, capsys):  # noqa: F811
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    code, free, free_dir = _search(tmp_path, monkeypatch, capsys, "free")
    assert code == 0, free
    assert isinstance(free, dict) and free["paid_usd"] > 10 * TINY_CAP  # the premise: the cap must stop this search

    code, roomy, roomy_dir = _search(tmp_path, monkeypatch, capsys, "roomy", "--max-dollars", str(GENEROUS_CAP))
    assert code == 0, roomy
    assert isinstance(roomy, dict)
    roomy.pop("run_dir"), free.pop("run_dir")
    assert roomy == free  # the same graphs, scores, paid calls and dollars
    free_trace = json.loads((free_dir / "trace.json").read_text())
    roomy_trace = json.loads((roomy_dir / "trace.json").read_text())
    assert roomy_trace["evaluations"] == free_trace["evaluations"] and roomy_trace["final"] == free_trace["final"]

    code, err, capped_dir = _search(tmp_path, monkeypatch, capsys, "capped", "--max-dollars", str(TINY_CAP))
    lines = [line for line in str(err).splitlines() if line.strip() and "WARNING" not in line]  # Ray's own notice
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: dollar cap reached"), lines
    assert 0 < _stored_paid(capped_dir) <= TINY_CAP  # before the fix: many times the cap
    if "share of the cap ran out" in lines[0]:  # stopped by a chunk's allowance: it must not claim the cap is spent
        assert ">= --max-dollars" not in lines[0] and "before spending the whole cap" in lines[0]

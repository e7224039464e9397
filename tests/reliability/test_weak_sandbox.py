"""Model code is not run weakly contained behind the user's back: HumanEval scoring through `rolegraph eval`
(and `run`) refuses in one line, before any model call, where the sandbox has neither namespaces nor its
seccomp filter, and runs with --allow-weak-sandbox (the missing layers then named in warnings)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from rolegraph.evaluate.store import ResultsStore
from rolegraph.tools import isolation, sandbox

from .conftest import assert_clean_user_error, cli


@pytest.fixture
def weak(monkeypatch, tmp_path):
    """The rlimits-only chain and a boot script without seccomp.py: neither layer can be in force."""
    monkeypatch.setattr(isolation, "namespace_prefixes", lambda: [[]])
    boot = tmp_path / "boot" / "sandbox_boot.py"
    boot.parent.mkdir()
    boot.write_text(sandbox.BOOT_SCRIPT.read_text())
    monkeypatch.setattr(sandbox, "BOOT_SCRIPT", boot)
    sandbox.probe_layers.cache_clear()  # the per-process probe, made afresh under these conditions (the real chain)
    yield tmp_path
    sandbox.probe_layers.cache_clear()  # ... and not left behind for the next test


def _graph(tmp_path):
    path = tmp_path / "coder.yaml"
    path.write_text(yaml.safe_dump({"nodes": [{"id": "c", "role": "solver", "model": "sim/llama-3.1-8b"}]}))
    return path


def test_humaneval_is_refused_before_any_call_and_runs_when_allowed(weak, tmp_path, caplog):
    store = tmp_path / "r.sqlite"
    args = ["eval", _graph(tmp_path), "--task", "humaneval", "--n", "2", "--store", store]
    line = assert_clean_user_error(cli([*args, "--json"]))
    assert "refusing to run model code" in line and "--allow-weak-sandbox" in line
    with ResultsStore(store) as db:
        assert db.runs() == []  # nothing was evaluated (or paid for) before the refusal
    allowed = cli([*args, "--json", "--allow-weak-sandbox"])
    assert allowed.code == 0, allowed.err
    out = json.loads(allowed.out)
    assert out["n"] == 2 and out["failures"] == 0
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    for layer in ("netns", "seccomp"):  # named once each in this process (a CLI prints them on stderr)
        assert len([m for m in warned if f"layer '{layer}' is not in force" in m]) == 1, warned


def test_run_on_a_humaneval_item_is_refused_the_same_way(weak, tmp_path):
    line = assert_clean_user_error(cli(["run", _graph(tmp_path), "--task", "humaneval", "--item", "0"]))
    assert "--allow-weak-sandbox" in line
    ran = cli(["run", _graph(tmp_path), "--task", "humaneval", "--item", "0", "--json", "--allow-weak-sandbox"])
    assert ran.code == 0, ran.err and json.loads(ran.out)["answer"]


WEAK_CLI = """
import sys
from pathlib import Path
from rolegraph.tools import isolation, sandbox
isolation.namespace_prefixes = lambda: [[]]
boot = Path(sys.argv[1]) / "sandbox_boot.py"
boot.write_text(sandbox.BOOT_SCRIPT.read_text())
sandbox.BOOT_SCRIPT = boot
from rolegraph.cli import main
main(sys.argv[2:])
"""


def test_the_missing_layers_are_printed_once_on_stderr_by_a_real_process(tmp_path):
    """No logging set up (as a user runs the CLI): Python's last-resort handler prints each warning as a line."""
    boot = tmp_path / "boot"
    boot.mkdir()
    args = ["eval", _graph(tmp_path), "--task", "humaneval", "--n", "2", "--json", "--allow-weak-sandbox",
            "--store", tmp_path / "r.sqlite"]
    done = subprocess.run([sys.executable, "-c", WEAK_CLI, str(boot), *map(str, args)], capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [ln for ln in done.stderr.splitlines() if "is not in force" in ln]
    assert len([ln for ln in lines if "layer 'seccomp'" in ln]) == 1 and len([ln for ln in lines if "'netns'" in ln]) == 1
    assert "Traceback" not in done.stderr and json.loads(done.stdout)["n"] == 2

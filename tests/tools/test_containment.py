"""The sandbox says what it enforces: warnings name each missing layer once per process, the python tool
claims only what is in force, and model code is refused (one line) with neither namespaces nor the
seccomp filter unless weak containment is allowed (--allow-weak-sandbox, Settings.allow_weak_sandbox)."""
from __future__ import annotations

import asyncio
import logging

import pytest

from rolegraph.errors import SandboxRefusedError
from rolegraph.tools import containment, isolation, sandbox
from rolegraph.tools.sandbox import PythonTool, run_python
from tests.sandbox_support import supported_layers

ALL_LAYERS = tuple(containment.LAYERS)
RLIMITS_ONLY = ("rlimits", "process-group")


@pytest.fixture
def weak(monkeypatch, tmp_path):
    """Neither namespaces (the rlimits-only chain) nor the filter (a boot script without seccomp.py)."""
    monkeypatch.setattr(isolation, "namespace_prefixes", lambda: [[]])
    boot = tmp_path / "boot" / "sandbox_boot.py"
    boot.parent.mkdir()
    boot.write_text(sandbox.BOOT_SCRIPT.read_text())
    monkeypatch.setattr(sandbox, "BOOT_SCRIPT", boot)
    sandbox.probe_layers.cache_clear()  # the per-process probe, made afresh under these conditions
    yield tmp_path
    sandbox.probe_layers.cache_clear()  # ... and not left behind for the next test


def test_weakly_contained_model_code_is_refused_and_never_runs(weak):
    marker = weak / "ran.txt"
    with pytest.raises(SandboxRefusedError) as info:
        run_python(f"open({str(marker)!r}, 'w').write('x')")
    message = str(info.value)
    assert "\n" not in message and containment.ALLOW_FLAG in message and "seccomp" in message and "netns" in message
    assert not marker.exists()  # refused before the script started


def test_allowed_weak_containment_runs_and_warns_once_per_missing_layer(weak, caplog):
    marker = weak / "ran.txt"
    with caplog.at_level(logging.WARNING, logger="rolegraph.tools.sandbox"):
        first = run_python(f"open({str(marker)!r}, 'w').write('x')", allow_weak=True)
        second = run_python("print('again')", allow_weak=True)
    assert first.ok and marker.exists() and second.ok
    assert {"netns", "seccomp"} <= set(first.missing) and first.missing == second.missing
    lines = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    for layer in first.missing:  # one line per layer, naming it, over both runs
        assert len([m for m in lines if f"layer '{layer}' is not in force" in m]) == 1, (layer, lines)
    assert len(lines) == len(first.missing) and all("\n" not in m for m in lines)


def test_the_python_tool_describes_only_what_is_in_force(monkeypatch):
    monkeypatch.setattr(sandbox, "probe_layers", lambda: ALL_LAYERS)
    full = PythonTool().description
    assert "no network" in full and "outside its working dir are read-only" in full and "NOT" not in full
    monkeypatch.setattr(sandbox, "probe_layers", lambda: RLIMITS_ONLY)
    bare = PythonTool().description
    assert "no network" not in bare and "no files outside" not in bare and "network is NOT blocked" in bare
    monkeypatch.setattr(sandbox, "probe_layers", lambda: (*RLIMITS_ONLY, "seccomp"))
    filtered = PythonTool().description
    assert "no network" in filtered and "no files outside" not in filtered
    assert PythonTool().openai_schema()["function"]["description"] == filtered  # what a model is sent


def test_the_description_here_matches_this_machine():
    """On this machine, with what it supports (read from the kernel), the tool's claims hold."""
    text = PythonTool().description
    supported = supported_layers()
    assert ("no network" in text) == bool({"netns", "seccomp"} & supported)
    assert ("outside its working dir are read-only" in text) == ("readonly" in supported)
    assert "no files" not in text  # the code can read most files: only writes are stopped


def test_a_refusal_in_the_python_tool_stops_the_run_instead_of_reaching_the_model(weak):
    with pytest.raises(SandboxRefusedError):
        asyncio.run(PythonTool().call(code="print(1)"))
    allowed = asyncio.run(PythonTool(allow_weak=True).call(code="print(6 * 7)"))
    assert allowed.ok and allowed.text.strip() == "42"


def test_require_containment_refuses_before_anything_runs(monkeypatch):
    monkeypatch.setattr(sandbox, "probe_layers", lambda: RLIMITS_ONLY)
    with pytest.raises(SandboxRefusedError, match="--allow-weak-sandbox"):
        sandbox.require_containment(False)
    sandbox.require_containment(True)  # allowed: no error
    monkeypatch.setattr(sandbox, "probe_layers", lambda: (*RLIMITS_ONLY, "netns"))
    sandbox.require_containment(False)  # a network namespace alone is enough


def test_the_description_never_claims_files_are_out_of_reach(monkeypatch):
    """A user probe: the description said "no files outside a temp dir" while the code could read most of the
    filesystem (the mounts are read-only, not gone). It now claims only that writes are stopped."""
    for layers in (ALL_LAYERS, RLIMITS_ONLY, (*RLIMITS_ONLY, "readonly")):
        monkeypatch.setattr(sandbox, "probe_layers", lambda layers=layers: layers)
        text = PythonTool().description
        assert "no files" not in text
        assert ("read-only" in text) == ("readonly" in layers)


def test_without_namespaces_the_state_directory_is_readable_and_a_warning_says_so(weak, monkeypatch, caplog):
    """The weak path (no private mount table, so nothing can be hidden) does not allow reading the state
    directory silently: `hidden-dirs` is missing from the run and the one warning line names the state dir."""
    home = weak / "state"
    home.mkdir()
    (home / "results.sqlite").write_text("gold")
    monkeypatch.setenv("ROLEGRAPH_HOME", str(home))
    with caplog.at_level(logging.WARNING, logger="rolegraph.tools.sandbox"):
        out = run_python(f"print(open({str(home / 'results.sqlite')!r}).read())", allow_weak=True)
    assert out.ok and out.stdout == "gold\n"  # the honest opposite: readable here
    assert "hidden-dirs" in out.missing and "hidden-dirs" not in out.isolation
    lines = [r.getMessage() for r in caplog.records if "'hidden-dirs' is not in force" in r.getMessage()]
    assert len(lines) == 1 and "state directory" in lines[0] and "gold answers" in lines[0]

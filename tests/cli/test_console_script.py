"""The INSTALLED `rolegraph` console script, run as a user runs it: usage mistakes print click's usage
message and exit 2, never a traceback, whatever typer/click version the install brought in.

In-process tests (CliRunner, `main([...])`) cannot see this: the console script goes through the
real entry point, the real typer and whichever click it carries (typer 0.29 ships its own as
`typer._click`, whose exceptions are not `click.exceptions`').
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).with_name("rolegraph")
TIMEOUT_S = 60
TRACEBACK = "Traceback (most recent call last)"


@pytest.fixture(scope="module")
def script() -> Path:
    if not SCRIPT.is_file():
        pytest.fail(f"the console script is not installed beside the interpreter: {SCRIPT}")
    return SCRIPT


def _run(script: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "ROLEGRAPH_POOL")}
    return subprocess.run(
        [str(script), *args], capture_output=True, text=True, timeout=TIMEOUT_S, env=env, cwd=cwd
    )


def test_bare_invocation_shows_help_and_exits_2(script):
    out = _run(script)
    both = out.stdout + out.stderr
    assert TRACEBACK not in both
    assert out.returncode == 2  # what click does for a no_args_is_help group
    assert "Usage:" in both and "optimize" in both and "eval" in both  # the command list


def test_unknown_command_is_one_line_with_a_suggestion(script):
    out = _run(script, "evall")
    assert TRACEBACK not in out.stdout + out.stderr
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [out.stderr.strip()]  # one line, not click's usage block
    assert out.stderr.startswith("rolegraph: error: No such command 'evall'")
    assert "eval" in out.stderr.split("No such command", 1)[1]  # "Did you mean 'eval'?"
    assert "`rolegraph --help` lists the commands" in out.stderr


def test_unknown_option_is_one_line_naming_the_command(script):
    out = _run(script, "eval", "G", "--task", "gsm", "--bogus")
    assert TRACEBACK not in out.stdout + out.stderr
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [out.stderr.strip()]
    assert out.stderr.startswith("rolegraph eval: error: No such option: --bogus")
    assert "`rolegraph eval --help` lists the options" in out.stderr


def test_out_of_range_value_names_the_option(script):
    out = _run(script, "eval", "G", "--task", "gsm", "--n", "0")
    assert TRACEBACK not in out.stdout + out.stderr
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [out.stderr.strip()]
    assert out.stderr.startswith("rolegraph eval: error: Invalid value for '--n'")


def test_a_group_without_its_command_still_shows_its_help(script):
    out = _run(script, "route")
    assert TRACEBACK not in out.stdout + out.stderr
    assert out.returncode == 2
    assert "Usage: rolegraph route" in out.stdout + out.stderr and "fit" in out.stdout + out.stderr


def test_a_pool_file_that_is_not_utf8_is_one_line(script, tmp_path):
    pool = tmp_path / "pool.yaml"
    pool.write_bytes("models:\n  - id: caf\u00e9/x\n    backend: sim\n".encode("latin-1"))
    out = _run(script, "models", "--pool", str(pool))
    assert TRACEBACK not in out.stdout + out.stderr
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and str(pool) in lines[0] and "UTF-8" in lines[0]


def test_a_user_error_after_parsing_is_one_line_too(script, tmp_path):
    out = _run(script, "eval", str(tmp_path / "missing.yaml"), "--task", "gsm", "--n", "1")
    assert TRACEBACK not in out.stdout + out.stderr
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "missing.yaml" in lines[0]


def test_ctrl_c_in_a_search_says_where_it_is_saved_and_exits_130(script, tmp_path):
    """The user's report: the installed typer turns Ctrl-C into Exit(130), which came back as a bare code."""
    import signal
    import sqlite3
    import time

    def checkpoint() -> int:
        try:
            con = sqlite3.connect(f"file:{tmp_path / 'run' / 'run.sqlite'}?mode=ro", uri=True, timeout=1)
            row = con.execute("SELECT iteration FROM checkpoint").fetchone()
            con.close()
        except sqlite3.Error:
            return -1
        return -1 if row is None else int(row[0])

    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "ROLEGRAPH_POOL")}
    env["ROLEGRAPH_HOME"] = str(tmp_path / "home")
    proc = subprocess.Popen(
        [str(script), "optimize", "--task", "gsm", "--iterations", "200", "--task-size", "80", "--samples", "2",
         "--batch", "4", "--validation-items", "4", "--test-items", "6", "--out", "run"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # not inherited ignored from a shell
    )
    deadline = time.monotonic() + TIMEOUT_S
    while checkpoint() < 1:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == 130 and TRACEBACK not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted: the search is saved up to its last checkpoint")
    assert lines[0].endswith("continue with: rolegraph optimize --resume run")

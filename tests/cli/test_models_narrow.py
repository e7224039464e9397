"""`rolegraph models` on a terminal 60 columns wide: a URL or a model id is moved whole, never split.

The note column folded at any character, so an endpoint came out as `https://api.op` / `enai.com/v1;`, which can
be neither read nor copied. Checked on a real pseudo-terminal whose window is 60 columns (as `script -qc "COLUMNS=60
rolegraph models"` showed it) and in-process with COLUMNS=60; into a pipe every row stays on one line.
"""
from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

import pytest
from rich.console import Console

from rolegraph.cli import main, tables
from rolegraph.settings import HOME_ENV, POOL_ENV

NARROW = 60
OPENAI_URL = "https://api.openai.com/v1"  # where a built-in openai/* entry goes
MY_ID = "my-org/long-model-name-v2"
MY_URL = "http://gateway.example:8080/v1"
MY_KEY = "MY_GATEWAY_KEY"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
TIMEOUT_S = 120


@pytest.fixture
def pool_file(tmp_path, monkeypatch):
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    monkeypatch.delenv(POOL_ENV, raising=False)
    for name in ("OPENAI_API_KEY", MY_KEY):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "pool.yaml"
    path.write_text(f"models:\n  - {{id: {MY_ID}, backend: openai, base_url: '{MY_URL}', api_key_env: {MY_KEY}}}\n")
    return path


def _whole(out: str) -> None:
    """Every id and URL of the pool on one line of `out`, none cut, and the table within the screen."""
    lines = out.splitlines()
    urls = [line for line in lines if "://" in line]
    assert len(urls) >= 2 and all(OPENAI_URL in line or MY_URL in line for line in urls), out  # none split
    assert any(MY_URL in line for line in lines), out
    assert any(MY_ID in line for line in lines) and any("openai/gpt-4o-mini" in line for line in lines), out
    assert any(MY_KEY in line for line in lines) and any("OPENAI_API_KEY" in line for line in lines), out
    assert "…" not in out
    assert max(len(line) for line in lines) <= NARROW, out  # and it fits the screen


def _on_a_terminal(argv: list[str], columns: int, env: dict[str, str]) -> str:
    """What `argv` prints on a pseudo-terminal whose window is `columns` wide (escape codes taken out)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + TIMEOUT_S
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        assert proc.wait(timeout=TIMEOUT_S) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return ANSI.sub("", b"".join(chunks).decode("utf-8", "replace")).replace("\r\n", "\n")


def test_models_on_a_60_column_terminal_keeps_urls_and_ids_whole(pool_file):
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = env.get("TERM") or "xterm"
    out = _on_a_terminal([sys.executable, "-m", "rolegraph", "models", "--pool", str(pool_file)], NARROW, env)
    assert "Model pool" in out  # it printed the table, on the terminal
    _whole(out)


def test_models_with_columns_60_keeps_urls_and_ids_whole(pool_file, monkeypatch, capsys):
    """In-process: a terminal whose width comes from COLUMNS, as rich reads it on a real one."""
    monkeypatch.setenv("COLUMNS", str(NARROW))
    monkeypatch.setattr(tables, "Console", lambda: Console(force_terminal=True, color_system=None))
    main(["models", "--pool", str(pool_file)])
    _whole(capsys.readouterr().out)


def test_models_into_a_pipe_keeps_each_row_on_one_line_whatever_columns_says(pool_file, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", str(NARROW))
    main(["models", "--pool", str(pool_file)])
    out = capsys.readouterr().out
    mine = next(line for line in out.splitlines() if MY_ID in line)
    assert MY_URL in mine and f"set {MY_KEY}" in mine
    gpt = next(line for line in out.splitlines() if "openai/gpt-4o-mini" in line)
    assert OPENAI_URL in gpt and "set OPENAI_API_KEY" in gpt

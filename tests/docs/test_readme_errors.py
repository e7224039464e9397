"""README's "Errors" section says what a command-line mistake prints, as the installed script prints it: one
line naming the command (it used to promise "the command's usage", which `rolegraph` no longer prints)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("rolegraph")


def errors_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]


def test_readme_quotes_the_line_a_command_line_mistake_prints():
    section = errors_section()
    assert "usage" not in section.lower()  # no usage block is printed
    quoted = re.findall(r"`(rolegraph \w+: error: [^`]+)`", section)
    assert quoted, "the Errors section quotes no error line"
    command, wrong = re.match(r"rolegraph (\w+): error: No such option: (\S+)", quoted[0]).groups()
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "ROLEGRAPH_POOL")}
    out = subprocess.run([str(SCRIPT), command, wrong], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip().splitlines() == [out.stderr.strip()]  # one line
    assert out.stderr.startswith(quoted[0])
    assert f"`rolegraph {command} --help`" in out.stderr and f"`rolegraph {command} --help`" in section

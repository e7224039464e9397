"""mkdocs hooks: the CLI reference is generated from the typer app on every build, so it cannot go stale.

`typer docs/cli_app.py utils docs` renders every command's usage, options and help from the same
typer app that `rolegraph` runs (typer carries its own click, so this works whatever click is installed).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
CLI_PAGE = DOCS / "reference" / "cli.md"
APP_FILE = DOCS / "cli_app.py"


def on_pre_build(config, **kwargs) -> None:
    typer = Path(sys.executable).with_name("typer")
    command = [str(typer), str(APP_FILE), "utils", "docs", "--name", "rolegraph", "--output", str(CLI_PAGE)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"generating the CLI reference failed: {done.stderr.strip() or done.stdout.strip()}")
    text = CLI_PAGE.read_text(encoding="utf-8")
    CLI_PAGE.write_text("# CLI reference\n\nGenerated from the typer app on every docs build.\n\n" + text.replace(
        "# `rolegraph`", "## `rolegraph`", 1), encoding="utf-8")


ROOT = DOCS.parent
INCLUDED = {"benchmarks.md": ROOT / "BENCHMARKS.md"}
"""Site pages whose text is a repository-root file (kept in one place, shown in both)."""


def on_page_markdown(markdown: str, page, **kwargs) -> str:
    """A page backed by a root file shows that file; its `docs/x.md` links become `x.md` inside the site."""
    source = INCLUDED.get(page.file.src_uri)
    if source is None:
        return markdown
    return source.read_text(encoding="utf-8").replace("](docs/", "](")

"""Every Python and shell snippet on the docs site runs, offline, as written.

A snippet that needs something this machine cannot have carries a visible marker: a code-block title
starting with one of `SKIPPED_TITLES` (material shows the title above the block), and is skipped by
that name. Snippets run in a scratch directory that links the repository's `examples/`, with their
own `ROLEGRAPH_HOME`, so they touch nothing of yours.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
GENERATED = {"reference/cli.md"}  # written by docs/hooks.py on every build: no snippets of ours
SKIPPED_TITLES = {
    "remote:": "needs a remote endpoint, a key or a cluster",
    "fresh machine:": "installs into a new venv: exactly what CI's .ci/run does on a clean clone",
    "your data:": "reads a data file the user downloads (not bundled, no network here)",
}
RUNNERS = {"python": [sys.executable, "-c"], "bash": ["bash", "-euo", "pipefail", "-c"]}
SNIPPET_TIMEOUT_S = 600
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>\w+)(?P<attrs>[^\n]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
                   re.MULTILINE | re.DOTALL)
TITLE = re.compile(r'title="([^"]*)"')


@dataclass(frozen=True)
class Snippet:
    page: str
    line: int
    lang: str
    title: str
    code: str

    @property
    def name(self) -> str:
        return f"{self.page}:{self.line}"


def snippets() -> list[Snippet]:
    found = []
    for path in sorted(DOCS.rglob("*.md")):
        page = path.relative_to(DOCS).as_posix()
        if page in GENERATED:
            continue
        text = path.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            if m.group("lang") not in RUNNERS:
                continue
            indent = m.group("indent")
            body = "\n".join(line[len(indent):] for line in m.group("body").splitlines())
            title = TITLE.search(m.group("attrs"))
            found.append(Snippet(page, text.count("\n", 0, m.start()) + 1, m.group("lang"),
                                 title.group(1) if title else "", body))
    return found


ALL = snippets()
PART2_PAGES = frozenset({"concepts/cache-and-resume.md", "tutorials/evaluate.md", "tutorials/real-endpoints.md",
                         "tutorials/search.md", "tutorials/serve.md", "tutorials/spaces.md"})
"""The pages whose snippets `test_snippets_part2.py` runs; this module runs every other page's. All snippets in one
file took ~5 minutes on one worker (`--dist loadfile` keeps a file on one), 9.5 under load; these pages took about
half of that time."""
PART1 = [s for s in ALL if s.page not in PART2_PAGES]
PART2 = [s for s in ALL if s.page in PART2_PAGES]


def test_the_site_has_runnable_snippets():
    langs = {s.lang for s in ALL}
    assert len(ALL) >= 10 and langs == {"python", "bash"}


def test_the_two_parts_run_every_snippet_once():
    """A renamed or removed page in `PART2_PAGES` would leave its part short: each named page still has snippets."""
    assert {s.page for s in PART2} == PART2_PAGES
    assert sorted(s.name for s in PART1 + PART2) == sorted(s.name for s in ALL) and PART1


@pytest.mark.parametrize("snippet", PART1, ids=[s.name for s in PART1])
def test_snippet_runs(snippet: Snippet, tmp_path):
    run_snippet(snippet, tmp_path)


def run_snippet(snippet: Snippet, tmp_path: Path) -> None:
    """Run one snippet as written in a scratch directory (both parts' tests call this)."""
    for prefix, why in SKIPPED_TITLES.items():
        if snippet.title.startswith(prefix):
            pytest.skip(f"{snippet.title!r}: {why}")
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = dict(os.environ, ROLEGRAPH_HOME=str(tmp_path / "home"), PYTHONPATH=str(ROOT),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("ROLEGRAPH_POOL", None)
    done = subprocess.run([*RUNNERS[snippet.lang], snippet.code], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=SNIPPET_TIMEOUT_S, check=False)
    assert done.returncode == 0, (f"{snippet.name} failed ({done.returncode}):\n{done.stdout[-2000:]}\n"
                                  f"{done.stderr[-3000:]}")
    assert "Traceback" not in done.stderr

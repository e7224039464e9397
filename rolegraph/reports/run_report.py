"""`render`: everything a run directory's report shows, re-rendered from its store.

Kept apart from `markdown` and `html` because it uses both, and `html` renders the figures through `markdown`.
"""

from __future__ import annotations

from pathlib import Path

import rolegraph.reports.markdown as markdown
from rolegraph.fileio import write_atomic
from rolegraph.optimize.run_reader import load_run
from rolegraph.reports.html import HTML_NAME, html_page


def render(run_dir: str | Path) -> Path:
    """report.md, best_graph.yaml, trace.json and the figures; and report.html when the run directory has one.

    Everything that re-renders report.md (the end of a search or resume, `rolegraph report`, a stop) calls this,
    and a page left from before would show an old status beside a current report.md. A run without the page
    does not get one (`--html` asks for it)."""
    path = markdown.render(run_dir)
    page = Path(run_dir) / HTML_NAME
    if page.is_file():
        write_atomic(page, html_page(load_run(run_dir)))
    return path

"""Reports of a search run, rendered from its run directory's store: `report.md`, PNGs, one HTML page.

    from rolegraph.reports import render, write_html
    render("runs/my-search")        # best_graph.yaml, trace.json, report.md, curve/pareto/graph PNGs
    write_html("runs/my-search")    # report.html, self-contained

Reports sit above the search (`rolegraph.optimize`): they read what a search stored, never the reverse.
"""

from rolegraph.reports.html import write_html
from rolegraph.reports.run_report import render

__all__ = ["render", "write_html"]

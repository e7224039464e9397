"""The run directory's pictures: the search curve, the Pareto front, the chosen graph (matplotlib, Agg)."""

from __future__ import annotations

import io
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rolegraph.fileio import write_atomic
from rolegraph.graphs.render import PNG_DPI as GRAPH_PNG_DPI
from rolegraph.graphs.render import draw, figure_size
from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.final import FinalChoice
from rolegraph.optimize.pareto import ParetoPoint
from rolegraph.optimize.run_reader import sim_suffix

PNG_DPI = 110
PARETO_Y_LABEL = "training accuracy, batch-adjusted"
"""The front is drawn on pooled training accuracy adjusted for each batch's difficulty (ParetoPoint.accuracy),
not on the raw share of training items right: the label says so."""


def simulation_label(run: dict) -> str:
    """What follows a plot's title: ' (simulated, world N)', ' (partly simulated, world N)', or nothing for real
    results (`run_reader.sim_suffix`, as the best graph's description says it). A picture is often shown without
    the report around it, and sim results must say so wherever shown."""
    return sim_suffix(run)


def _figure(width: float = 6.0, height: float = 4.0):
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path, dpi: int = PNG_DPI) -> None:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, dpi=dpi, format="png")
    write_atomic(path, buf.getvalue())


def curve_png(run: dict, path: Path) -> None:
    fig = _figure()
    ax = fig.add_subplot()
    its = [it for it in run["iterations"] if it.best_objective is not None]
    charged = [r for r in run["records"] if r.phase in ("pilot", "search")]
    running, xs, ys = None, [], []
    for r in charged:
        running = r.objective if running is None else max(running, r.objective)
        xs.append(r.evaluations)
        ys.append(running)
    if xs:
        ax.step(xs, ys, where="post", color="#bbbbbb", label="max batch objective (optimistic)")
    if its:
        ax.step(
            [it.evaluations for it in its],
            [it.best_objective for it in its],
            where="post",
            color="#1f77b4",
            linewidth=2,
            label="best so far (pooled estimate)",
        )
    final: FinalChoice | None = run["final"]
    if final is not None:
        ax.axhline(final.test.objective, color="#2ca02c", linestyle="--", label="chosen graph, test")
    ax.set_xlabel("evaluations (item-level graph runs)")
    ax.set_ylabel("objective")
    ax.set_title(f"{run['config']['optimizer']['name']} on {run['config']['task']}{simulation_label(run)}")
    if xs or its:
        ax.legend(loc="lower right", fontsize=8)
    _save(fig, path)


def pareto_png(pts: list[ParetoPoint], pareto: list[ParetoPoint], path: Path, *, label: str = "") -> None:
    """Every scored graph by latency and batch-adjusted training accuracy, the front circled. `label`: the run's
    `simulation_label` (the points alone do not say what answered)."""
    fig = _figure()
    ax = fig.add_subplot()
    if pts:
        sc = ax.scatter(
            [p.latency_s for p in pts],
            [p.accuracy for p in pts],
            c=[p.dollars for p in pts],
            cmap="viridis",
            s=18,
            alpha=0.7,
        )
        fig.colorbar(sc, ax=ax, label="$ per item")
        ax.scatter(
            [p.latency_s for p in pareto],
            [p.accuracy for p in pareto],
            facecolors="none",
            edgecolors="#d62728",
            s=70,
            linewidths=1.5,
            label="Pareto front",
        )
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel("mean latency per item (s)")
    ax.set_ylabel(PARETO_Y_LABEL)
    ax.set_title(f"graphs evaluated{label}")
    _save(fig, path)


def graph_png(spec: GraphSpec, path: Path, *, label: str = "") -> None:
    """The chosen graph drawn left to right by level, output node highlighted; `label`: the run's
    `simulation_label`, as on the other two pictures (a sim graph's picture must say so too)."""
    fig = _figure(*figure_size(spec))
    draw(spec, fig.add_subplot(), title=f"{spec.name}  (output: {spec.output_id()}){label}")
    _save(fig, path, GRAPH_PNG_DPI)  # the resolution `rolegraph show` draws graphs at

"""The router a run ends with (`rolegraph demo`, `rolegraph route fit RUN_DIR`): what the report says of it.

`route fit` writes RUN_DIR/router.yaml after the search; its `fit` block stores the router's test point
and the best graph's on the same test items. Its point is the trade: about the best graph's accuracy for
fewer FLOPs. The report reads the file (never refits) so a reader of report.md or report.html learns the
router exists, and what it is worth, without running anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import yaml

from rolegraph.errors import shown_arg
from rolegraph.graphs.router_io import ROUTER_FILE
from rolegraph.models.provenance import Simulation, label_suffix, stored_simulation

"""The file `rolegraph demo` and `rolegraph route fit RUN_DIR` write in the run directory."""
ROUTER_TITLE = f"Router ({ROUTER_FILE})"


@dataclass(frozen=True)
class RouterNote:
    """What router.yaml says of itself: its stages and, when `route fit` wrote it, its test point and the best
    graph's (None: a router written by hand, or a file that could not be read: `problem` says why)."""

    stages: int
    accuracy: float | None = None
    best_accuracy: float | None = None
    n: int | None = None
    flops_units: float | None = None
    best_flops_units: float | None = None
    shares: tuple[float, ...] = ()
    simulation: Simulation | None = None  # the fit's three-way label; None: not stored
    problem: str | None = None

    @property
    def flops_ratio(self) -> float | None:
        if self.flops_units is None or not self.best_flops_units:
            return None
        return self.flops_units / self.best_flops_units

    def text(self, run_cmd: str) -> str:
        """One paragraph: accuracy against the best graph, FLOPs ratio, and how to run it."""
        if self.problem is not None:
            return f"{ROUTER_FILE} is in the run directory but could not be read ({self.problem})."
        head = (
            f"{ROUTER_FILE} holds a router: a cascade of {self.stages} graph(s), cheapest first, each stopping "
            "when its rule holds"
        )
        if self.accuracy is None or self.best_accuracy is None:
            return f"{head}; it stores no fit figures. Run it like a graph: `{run_cmd}`."
        sim = label_suffix(self.simulation)
        ratio = self.flops_ratio
        cost = (
            f", at {ratio:.2f}x the best graph's FLOPs ({self.flops_units:.1f} vs {self.best_flops_units:.1f} units)"
            if ratio is not None
            else ""
        )
        shares = f"; stages answered {', '.join(f'{s:.0%}' for s in self.shares)}" if self.shares else ""
        return (
            f"{head}, fitted on this run by `rolegraph route fit`: test accuracy {self.accuracy:.3f} vs the best "
            f"graph's {self.best_accuracy:.3f} ({self.accuracy - self.best_accuracy:+.3f}) on {self.n} test items"
            f"{cost}{shares}{sim}. Run it like a graph: `{run_cmd}`."
        )


def router_note(run_dir: str | Path) -> RouterNote | None:
    """The run directory's router.yaml as the report shows it; None when there is none."""
    path = Path(run_dir) / ROUTER_FILE
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        stages = len(data.get("stages") or [])
        fit = data.get("fit") or {}
        test, best = fit.get("test") or {}, (fit.get("best_graph") or {}).get("test") or {}
        shares = test.get("shares") or ()
        return RouterNote(
            stages=stages,
            accuracy=_figure(test, "accuracy", "fit.test"),
            best_accuracy=_figure(best, "accuracy", "fit.best_graph.test"),
            n=test.get("n"),
            flops_units=_figure(test, "flops_units", "fit.test"),
            best_flops_units=_figure(best, "flops_units", "fit.best_graph.test"),
            shares=tuple(_number(s, "fit.test.shares") for s in shares),
            simulation=_stored_simulation(fit),
        )
    except (OSError, yaml.YAMLError, AttributeError, TypeError) as exc:  # a report renders even so
        return RouterNote(stages=0, problem=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def _figure(block: dict, key: str, where: str) -> float | None:
    """A stored figure of the fit: a finite number, or absent (None). Anything else came from a hand edit and is the
    file's problem, said in the report, not a traceback from formatting it (`accuracy: "abc"` was a ValueError)."""
    value = block.get(key)
    return None if value is None else _number(value, f"{where}.{key}")


def _number(value: object, where: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return value
    raise TypeError(f"{where} is not a number: {shown_arg(value)}")


def _stored_simulation(fit: dict) -> Simulation | None:
    """The fit's three-way label as its router file stores it (`stored_simulation`: older files kept only
    `simulated`)."""
    return stored_simulation(fit.get("simulation"), fit.get("simulated"))

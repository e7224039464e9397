"""The rich tables of evaluations and their figures' formats (shared by `rolegraph eval` and `results`).

Every table that shows a simulated result says so: sim numbers are not claims about real models. The paired
statistics these tables print live in `rolegraph.evaluate.paired_stats`.

Graph names, labels, task names, node ids and model ids reach these tables as `Text`, never as strings: rich reads
a string as markup, and a `[/]` in a graph's name would crash the table (and, once stored, every later `rolegraph
results`), a `[bold]` would vanish.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from rolegraph.evaluate.paired_stats import Comparison
from rolegraph.evaluate.result import EvalResult
from rolegraph.graphs.analysis import flops_text
from rolegraph.models.provenance import PARTLY, REAL, SIMULATED, Simulation, combine, label_suffix
from rolegraph.money import money

SIM_NOTES: dict[Simulation, str] = {
    SIMULATED: "simulated: sim models are stand-ins calibrated to published numbers, not real-model results",
    PARTLY: (
        "partly simulated: some answers shown came from sim models, stand-ins calibrated to published numbers, "
        "not real-model results"
    ),
}


def sim_note(labels: Iterable[Simulation | None]) -> str:
    """The note under tables of results with these labels: the simulated or the partly simulated sentence,
    whichever describes them together, and nothing for real results (a note about stand-ins that answered
    nothing would only cast doubt on real numbers)."""
    label = combine(labels)
    return SIM_NOTES.get(label, "") if label is not None else ""


NO_SIGN = ""
"""`pct` without the % sign: for tables whose column headers give the unit (the benchmarks')."""


def pct(x: float | None, sign: str = "%") -> str:
    """A share as a percentage with one decimal ("-" when not measured): one format for the reports and the
    benchmarks' tables, so the numbers they print cannot drift apart."""
    return "-" if x is None else f"{100 * x:.1f}{sign}"


def _ci(ci: Sequence[float]) -> str:
    return f"[{pct(ci[0])}, {pct(ci[1])}]"


def cache_note(cached: int, calls: int) -> str:
    """One line saying that some calls were replayed from the response cache (empty when none were)."""
    if not cached:
        return ""
    return (
        f"{cached} of {calls} model calls answered from the response cache "
        "(latency as measured when each call was first made)"
    )


def timed_out_note(attempts: int, dollars: float) -> str:
    """The line under a table of a run or an evaluation in which requests were abandoned at their `timeout_s`
    (empty when none were): the endpoint may bill them, yet no reply's tokens or dollars hold them."""
    if not attempts:
        return ""
    return (
        f"{attempts} request(s) timed out and were abandoned: the endpoint may bill them (up to {money(dollars)} "
        "at the pool's prices); not in tokens or cost"
    )


NOT_MEASURED = "n/a"
NO_VALUE = "-"
NO_ANSWERS = "no answers"
"""The simulation cell of a run in which every item failed: the graph answered nothing, so there is no
result to call simulated or real (the label stored with it is only what the pool's models would have been)."""
FLOPS_NO_ANSWERS = "n/a (nothing answered)"
"""The FLOPs cell of a run or a result that no reply answered and that spent none: its 0 units are no measurement,
and `flops_text`'s reading of zero, "model sizes unknown", would give the wrong reason."""


def every_failed(n: int, failures: int) -> bool:
    """Every item failed: the accuracy (0) and the latencies (0 s) stored for it measure nothing."""
    return n > 0 and failures >= n


def shown_simulation(result: EvalResult) -> Simulation | None:
    """The label a table and its note give `result`: None when every item failed (nothing answered)."""
    return None if every_failed(result.n, result.failures) else result.simulation


def run_simulation(run: dict) -> Simulation | None:
    """`shown_simulation` of a stored run's summary (`ResultsStore.runs()`)."""
    return None if every_failed(run["n"], run["failures"]) else run["simulation"]


def _failures_cell(r: EvalResult) -> str:
    """How many of the n items failed; while some answered, that the accuracy counts the failures as wrong."""
    if not r.failures:
        return "0"
    if every_failed(r.n, r.failures):
        return f"{r.failures} of {r.n} (all: no accuracy or latency)"
    return f"{r.failures} of {r.n} (counted as wrong in accuracy)"


def _flops_cell(r: EvalResult) -> str:
    """FLOPs units per item; when every item failed without a reply and spent nothing, "n/a (nothing answered)":
    its 0 is no measurement, and `flops_text` would blame model sizes. A reply that came before a failure keeps
    `flops_text`'s reading (its zero does mean sizes unknown)."""
    replied = any(it.simulation is not None for it in r.items)
    if every_failed(r.n, r.failures) and not r.flops_units and not replied:
        return FLOPS_NO_ANSWERS
    return flops_text(r.flops_units)


def _simulation_cell(r: EvalResult) -> str:
    if shown_simulation(r) is None:
        return NO_ANSWERS
    return f"{r.simulation} (world {r.world})" if r.simulation != "real" and r.world is not None else r.simulation


CACHED_ROW = "calls from the response cache"
TIMED_OUT_ROW = "requests timed out (abandoned)"
"""The row of requests abandoned at their `timeout_s`: shown beside the cost, which leaves them out."""


def _timed_out_cell(r: EvalResult) -> str:
    if not r.timed_out_attempts:
        return "0"
    return f"{r.timed_out_attempts} (may be billed: up to {money(r.timed_out_usd)}, not in cost)"


def _metric_rows(r: EvalResult, *, cached_row: bool = False, timed_out_row: bool = False) -> list[tuple[str, str]]:
    """The rows of one result's figures; the response-cache row only when some call was replayed, or when
    `cached_row` asks for it (a side-by-side table in which another graph has one reads "0 of N" here); the
    timed-out row likewise, when some request was abandoned at its timeout or `timed_out_row` asks for it."""
    shown = cached_row or r.cached_calls > 0
    cached = [(CACHED_ROW, f"{r.cached_calls} of {r.calls}")] if shown else []
    timed_out = [(TIMED_OUT_ROW, _timed_out_cell(r))] if timed_out_row or r.timed_out_attempts > 0 else []
    none = every_failed(r.n, r.failures)  # 0.0% and 0.00 s would read as measurements

    def seconds(x: float) -> str:
        return NOT_MEASURED if none else f"{x:.2f} s"

    return [
        ("items", str(r.n)),
        ("accuracy", NOT_MEASURED if none else pct(r.accuracy)),
        ("95% CI (Wilson)", NOT_MEASURED if none else _ci(r.ci95)),
        ("failures", _failures_cell(r)),
        ("skipped (no gold)", str(r.skipped)),
        ("mean latency", seconds(r.mean_latency_s)),
        ("p95 latency", seconds(r.p95_latency_s)),
        ("mean critical path", seconds(r.mean_critical_path_s)),
        *cached,
        ("tokens (total)", f"{r.tokens:,}"),
        ("cost (total)", money(r.cost_usd)),
        *timed_out,
        ("FLOPs units / item", _flops_cell(r)),
        ("simulation", _simulation_cell(r)),
        ("partial (budget ran out)", "yes" if r.partial else "no"),
        ("run id", r.run_id or "-"),
    ]


def _title(head: str, labels: Sequence[Simulation | None], worlds: Sequence[int | None] = ()) -> Text:
    """The head with " (simulated)" or " (partly simulated)" when the results shown need it, naming the
    simulator world(s) they come from; as `Text`, since the head names a graph or a task (no markup)."""
    suffix = label_suffix(combine(labels))
    named = sorted({w for w in worlds if w is not None})
    if suffix and named:
        suffix += f" in world {', '.join(map(str, named))}"
    return Text(head + suffix, style="table.title")  # the style rich gives a string title


def summary_table(result: EvalResult, name: str | None = None) -> Table:
    table = Table(
        title=_title(f"{name or result.graph_name} on {result.task}", [shown_simulation(result)], [result.world])
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in _metric_rows(result):
        table.add_row(key, value)
    return table


def node_table(result: EvalResult) -> Table:
    """Per-node credit: how often each node's own answer was right and the output agreed with it."""
    table = Table(title=_title("per node", [shown_simulation(result)], [result.world]))
    for col in ("node", "role", "model", "items", "own answer right", "output agreed"):
        table.add_column(col, justify="right" if col in ("items", "own answer right", "output agreed") else "left")
    for node_id, st in result.per_node.items():
        table.add_row(Text(node_id), Text(st.role), Text(st.model), str(st.n), pct(st.correct_rate), pct(st.agree_rate))
    return table


def side_by_side_table(results: Sequence[EvalResult], names: Sequence[str]) -> Table:
    """Several results' figures in one column each, every row matched by its label: a row one graph has and
    another lacks (the response-cache row) must not shift the other's figures into the wrong rows."""
    task = results[0].task if results else ""
    table = Table(
        title=_title(
            f"{len(results)} graphs on {task}", [shown_simulation(r) for r in results], [r.world for r in results]
        )
    )
    table.add_column("metric")
    for name in names:
        table.add_column(Text(name), justify="right")
    cached_row = any(r.cached_calls for r in results)
    timed_out_row = any(r.timed_out_attempts for r in results)
    rows = [dict(_metric_rows(r, cached_row=cached_row, timed_out_row=timed_out_row)) for r in results]
    labels = list(dict.fromkeys(key for row in rows for key in row))  # keyed by label, never by position
    for key in labels:
        table.add_row(key, *(row.get(key, NO_VALUE) for row in rows))
    return table


def comparison_table(comparisons: Sequence[Comparison]) -> Table:
    base = comparisons[0].base if comparisons else ""
    table = Table(
        title=_title(f"paired comparison against {base} (same items)", [c.simulation for c in comparisons]),
        caption=Text(
            f"diff: accuracy minus {base}'s, 95% CI and p from a paired bootstrap; gained: items "
            f"{base} got wrong and this graph right, lost: the reverse; McNemar's exact test on them",
            style="table.caption",
        ),
    )
    for col in ("graph", "items", "diff", "95% CI", "p (bootstrap)", "gained", "lost", "p (McNemar)"):
        table.add_column(col, justify="left" if col == "graph" else "right")
    for c in comparisons:
        table.add_row(
            Text(c.other),
            str(c.n),
            f"{100 * c.mean_diff:+.1f} pts",
            f"[{100 * c.ci95[0]:+.1f}, {100 * c.ci95[1]:+.1f}]",
            f"{c.p_bootstrap:.3g}",
            str(c.b01),
            str(c.b10),
            f"{c.p_mcnemar:.3g}",
        )
    return table


SHORT_HASH = 8
"""Hex digits of a graph hash the listing shows: enough to tell two graphs of one name apart at a glance."""
UNBOUNDED = 10_000  # columns: room to measure a table's natural width
RUN_COLUMNS = (
    "run id",
    "created (UTC)",
    "task",
    "graph",
    "graph hash",
    "label",
    "n",
    "accuracy",
    "95% CI",
    "cost (total)",
    "FLOPs / item",
    "latency",
    "fail",
    "sim",
)
USER_TEXT_COLUMNS = ("task", "graph", "label")  # shown as `Text`: a name is never markup
RIGHT_COLUMNS = ("n", "accuracy", "cost (total)", "FLOPs / item", "latency", "fail")
STACKED_COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("run id / created", ("run id", "created (UTC)")),
    ("task / graph / hash", ("task", "graph", "label", "graph hash")),
    ("n", ("n", "fail")),
    ("accuracy / 95% CI", ("accuracy", "95% CI")),
    ("cost / FLOPs / latency", ("cost (total)", "FLOPs / item", "latency")),
    ("sim", ("sim",)),
)
"""The narrow layout: each column stacks these wide columns' cells, one a line (empty cells left out)."""


def _labelled(r: dict) -> bool:
    return bool(r["label"] and r["label"] != r["graph_name"])


def _run_cells(r: dict) -> dict[str, str]:
    """One stored run's cells by RUN_COLUMNS name (figures missing from older summaries read "-")."""
    flops = r.get("flops_units")
    latency = r.get("mean_latency_s")
    none = every_failed(r["n"], r["failures"])  # its stored 0.0% and 0.00 s measure nothing
    label = run_simulation(r)
    return {
        "run id": r["id"],
        "created (UTC)": r["created"][5:16].replace("T", " "),
        "task": r["task"],
        "graph": r["graph_name"],
        "graph hash": (r.get("graph_hash") or NO_VALUE)[:SHORT_HASH],
        "label": r["label"] if _labelled(r) else "",
        "n": str(r["n"]),
        "accuracy": NOT_MEASURED if none else pct(r["accuracy"]),
        "95% CI": NOT_MEASURED if none else _ci(r["ci95"]),
        "cost (total)": money(r["cost_usd"]) if r.get("cost_usd") is not None else NO_VALUE,
        "FLOPs / item": f"{flops:.2f}" if flops else "n/a",  # 0.0: model sizes unknown, or nothing answered
        "latency": NOT_MEASURED if none else f"{latency:.2f} s" if latency is not None else NO_VALUE,
        "fail": str(r["failures"]),
        "sim": (
            NO_ANSWERS
            if label is None
            else {SIMULATED: "yes", PARTLY: "partly"}.get(label, "no")
            + (f" (world {r['world']})" if r.get("world") is not None and label != REAL else "")
        ),
    }


def _stacked(cells: dict[str, str], names: tuple[str, ...]) -> str:
    """Cells of several wide columns as one narrow cell, each on its own line, said what they are where a
    bare figure would be ambiguous (failures, FLOPs)."""
    shown = {
        "fail": f"{cells['fail']} failed" if cells["fail"] != "0" else "",
        "FLOPs / item": f"{cells['FLOPs / item']} FLOPs",
        "cost (total)": f"{cells['cost (total)']} total" if cells["cost (total)"] != NO_VALUE else "",
        "label": f"({cells['label']})" if cells["label"] else "",
    }
    return "\n".join(line for name in names if (line := shown.get(name, cells[name])))


def runs_table(runs: Sequence[dict], width: int | None = None) -> Table:
    """Stored runs as `ResultsStore.runs()` returns them (a label column only when some run has one).

    What comparing runs needs side by side: accuracy, total cost, FLOPs units per item and mean latency, and
    a short graph hash, since two different graphs may share a name. When a `width` is given (a terminal's)
    and the table would not fit it, the same cells are stacked in fewer columns (STACKED_COLUMNS): folding
    fourteen columns into 80 would leave a few characters each. No cell is cut or split inside a word, since a
    cut name or figure cannot be read back (`rolegraph.cli.tables.stdout_console` wraps cells only between
    words when it fits the table to a terminal); the run id never wraps, as it is pasted into
    `rolegraph results ID`."""
    shown = [r for r in runs if run_simulation(r) is not None]
    title = _title("stored evaluations", [r["simulation"] for r in shown], [r.get("world") for r in shown])
    rows = [_run_cells(r) for r in runs]
    cols = [c for c in RUN_COLUMNS if c != "label" or any(_labelled(r) for r in runs)]
    table = Table(title=title)
    for col in cols:
        table.add_column(col, justify="right" if col in RIGHT_COLUMNS else "left", no_wrap=col == "run id")
    for cells in rows:
        table.add_row(*(Text(cells[c]) if c in USER_TEXT_COLUMNS else cells[c] for c in cols))
    if width is None or Console(width=UNBOUNDED, markup=False).measure(table).maximum <= width:
        return table
    stacked = Table(title=title)
    for head, _ in STACKED_COLUMNS:
        stacked.add_column(head, no_wrap=head.startswith("run id"))
    for cells in rows:
        stacked.add_row(*(Text(_stacked(cells, names)) for _, names in STACKED_COLUMNS))
    return stacked

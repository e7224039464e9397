"""`rolegraph route fit RUN_DIR`: fit a router (a cascade over the search's front) and write it as a file.

Heavy imports stay inside the command so `--help` is fast.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from rolegraph.errors import SearchError
from rolegraph.graphs.router_io import ROUTER_FILE
from rolegraph.money import money
from rolegraph.optimize.route_options import DEFAULT_TOLERANCE, check_options, check_tolerance

CANDIDATE_COLUMNS = ("graph", "source", "fit", "test", "FLOPs", "right|\nagree", "right|\nnot", "agree")
"""Two-line headers keep the numeric columns narrow: on an 80-column screen the graph's name gets the room."""
CANDIDATE_LAYOUTS = ("wide", "stacked")
"""The candidates table's layouts, widest first: a terminal gets the first that fits it with every name whole."""
STACKED_GRAPH_HEAD = "graph\n  source"

FIT_HELP = (
    "Fit a router over a search's front: graphs ordered by FLOPs, and per stage a rule for stopping or escalating "
    "that uses only what a deployment observes (agreement among a graph's answering nodes, a verifier's verdict, an "
    "unparsable answer, token log-probabilities where the endpoint returns them).\n\n"
    "Rules are fitted on the run's fit items (validation, topped up from training; never test items), and the chosen "
    "router is reported on the run's test items against the best graph, with a paired 95% interval. Default target: "
    "the cheapest router whose fit accuracy is within --tolerance of the best graph's.\n\n"
    "Against the winner's curse (thousands of chains tried on a few hundred items), each chain's fit accuracy is "
    "lowered by z paired standard errors of its difference from the best graph before the target applies; z is "
    "chosen by 5-fold cross-validation of the whole fit, and the output (--json: guard) says which.\n\n"
    "The router file runs wherever a graph runs (run, eval, show, validate)."
)

RouteApp = typer.Typer(name="route", help="Routers: per-question compute over a search's front.", no_args_is_help=True)


def _fmt(p: Any) -> tuple[str, str, str, str]:
    return f"{p.accuracy:.3f}", f"{p.flops_units:.1f}", money(p.dollars, ""), f"{p.latency_s:.2f}"


def _stage_line(check: Any, split: str) -> str:
    """'on its fit items right 76% (best graph 78%)': a stage far below the best graph on its own items costs."""
    if check.accuracy is None:
        return f"no {split} item"
    return f"on its {split} items right {check.accuracy:.0%} (best graph {check.best_accuracy:.0%})"


def candidates_table(fit: Any, layout: str = "wide"):
    """The run's paired outcomes the router was fitted over, one row per candidate graph, in one of
    CANDIDATE_LAYOUTS: "stacked", for a terminal too narrow for "wide", puts each graph's source under its name.

    Every cell stays whole (`no_wrap`): a graph's name is what a user looks up in the run directory, and a name
    folded to `vote5-llama-3.2-1b-fi` / `rst2` (or cut to `vote5-…`) reads as another one; on a screen too
    narrow even for the stacked table `stdout_console` prints it wider than the screen. Two-line headers keep
    the numeric columns narrow, so the graph's name gets the room."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from rolegraph.models.provenance import label_suffix

    stacked = layout == "stacked"
    cands = Table(
        title=f"candidates: the run's paired outcomes{label_suffix(fit.simulation)}",
        caption="fit, test: accuracy; right|agree, right|not: fit accuracy where the graph's answering nodes "
        "agree, and where they do not; agree: the share of fit items where they agree",
        box=box.SIMPLE_HEAD,
        show_edge=False,  # the edges of a borderless table are two blank columns
        pad_edge=False,
        collapse_padding=True,
    )
    columns = (STACKED_GRAPH_HEAD, *CANDIDATE_COLUMNS[2:]) if stacked else CANDIDATE_COLUMNS
    for col in columns:
        cands.add_column(col, justify="right" if col in CANDIDATE_COLUMNS[2:] else "left", no_wrap=True)
    pct = lambda v: "-" if v is None else f"{v:.0%}"  # noqa: E731
    for c in fit.candidates:
        cands.add_row(
            *((Text(f"{c.name}\n  {c.source}"),) if stacked else (Text(c.name), Text(c.source))),  # never markup
            f"{c.fit.accuracy:.3f}",
            f"{c.test.accuracy:.3f}" if c.test else "-",
            f"{c.fit.flops_units:.1f}",
            pct(c.agree_accuracy),
            pct(c.disagree_accuracy),
            pct(c.agree_share),
        )
    return cands


def _print(fit: Any, out: Path) -> None:
    """The fit's tables and lines; graph names reach rich as `Text` or with markup off (a `[/]` is no tag)."""
    from rich.table import Table
    from rich.text import Text

    from rolegraph.cli.tables import fit_table, stdout_console
    from rolegraph.models.provenance import label_suffix, shows_simulation

    sim = label_suffix(fit.simulation)  # simulated, partly simulated (sim and real models mixed), or nothing
    terminal = stdout_console()  # the terminal, if stdout is one: a pipe gets the wide table whole
    for layout in CANDIDATE_LAYOUTS:  # none fits: the narrowest, printed wider than the screen rather than split
        cands = candidates_table(fit, layout)
        if not terminal.is_terminal or fit_table(cands, terminal, terminal.width) <= terminal.width:
            break
    table = Table(title=f"on {fit.test.n} test items the fit never saw{sim}")
    for col in ("", "accuracy", "mean FLOPs", "$ / item", "s / item"):
        table.add_column(col, justify="left" if not col else "right")
    table.add_row("router", *_fmt(fit.test))
    table.add_row(Text(f"best graph ({fit.best_name})"), *_fmt(fit.best_test))
    if fit.single_test is not None:
        table.add_row(Text(f"best single on fit items ({fit.single_name})"), *_fmt(fit.single_test))
    console = stdout_console(cands, table)  # both laid out for the screen: neither name nor figure is cut
    console.print(cands)
    for i, (stage, share) in enumerate(zip(fit.stages, fit.test.shares), start=1):
        rule = f"stop if {fit.rules[i - 1]}" if i <= len(fit.rules) else "always answers"
        console.print(f"stage {i}: {stage}  ({rule}; answered {share:.0%} of test items)", markup=False)
        if len(fit.stages) > 1:
            console.print(
                "  " + _stage_line(fit.stage_fit[i - 1], "fit") + "; " + _stage_line(fit.stage_test[i - 1], "test")
            )
    console.print(table)
    d = fit.vs_best
    console.print(
        f"router - best graph: {d['diff']:+.3f} accuracy, paired 95% interval [{d['ci95'][0]:+.3f}, "
        f"{d['ci95'][1]:+.3f}]; {fit.flops_ratio:.2f}x its mean FLOPs"
    )
    console.print(fit.note, markup=False)
    if shows_simulation([fit.simulation]):
        console.print(f"{fit.simulation} results: they show the router working, not claims about real models")
    console.print(f"wrote {out}", markup=False)


def _finished_run(run_dir: Path) -> bool:
    """Whether the run directory's search has finished; a file or a directory that is not a run is refused."""
    from rolegraph.optimize.route_inputs import run_finished

    if run_dir.is_file():
        raise SearchError(f"{run_dir} is a file, not a run directory (give the directory optimize or demo wrote)")
    return run_finished(run_dir)


SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
"""What SQLite keeps beside a store while it writes: overwriting one corrupts the store as surely as the store."""


def _owned_files(run_dir: Path) -> list[Path]:
    """The files the run directory writes itself (its stores, their SQLite side files, its lock, its best graph,
    trace, reports and plots), from the names the code writing them uses; its router.yaml is `route fit`'s own."""
    from rolegraph.cli.optimize_output import RUN_FILES
    from rolegraph.optimize.paired import RESULTS_NAME
    from rolegraph.optimize.rundir import CREATING, STORE_NAME
    from rolegraph.optimize.runlock import LOCK_NAME

    stores = (STORE_NAME, RESULTS_NAME)
    names = [*stores, *(s + side for s in stores for side in SQLITE_SIDE_FILES), LOCK_NAME, CREATING]
    return [run_dir / n for n in (*names, *RUN_FILES) if n != ROUTER_FILE]


def _check_out(run_dir: Path, out: Path) -> None:
    """Refuse an --out that is one of the run's own files (by resolved path, so through symlinks, and by inode,
    so through hard links): the router written over results.sqlite destroys the paired outcomes every later fit
    reads, and over best_graph.yaml replaces the search's answer, both with exit 0 and no word."""
    import os

    target = out.expanduser()
    resolved = target.resolve()
    for own in _owned_files(run_dir):
        same = own.resolve() == resolved
        if not same and target.exists() and own.exists():
            same = os.path.samefile(target, own)
        if same:
            raise SearchError(
                f"--out {out} is the run's own {own.name}: writing the router there would replace it; give "
                f"another path (default: RUN_DIR/{ROUTER_FILE})"
            )


def _outcomes(run_dir: Path, finished: bool, as_json: bool) -> tuple[list[Any], list[Any]]:
    """The run's paired outcomes, its front scored first where it has none or where pairing stopped part way
    (an interrupted run: some graphs with fit outcomes and no test ones); the caller holds the run."""
    from rolegraph.optimize.rebuild import pair_run_held
    from rolegraph.optimize.route_inputs import load_outcomes, unpaired
    from rolegraph.settings import Settings

    fit_all, test_all = load_outcomes(run_dir)
    missing = unpaired(run_dir)
    if any(t is not None for t in test_all) and not missing:
        return fit_all, test_all
    if not finished:  # pairing would refuse it after the note below: say only that (with --max-dollars after a cap)
        from rolegraph.optimize.rundir import resume_command

        raise SearchError(f"the search in {run_dir} has not finished: continue it with `{resume_command(run_dir)}`")
    if not as_json:
        typer.echo(
            f"the run's pairing is incomplete ({len(missing)} graph(s) lack fit or test outcomes): scoring the "
            "missing ones"
            if missing and any(t is not None for t in test_all)
            else "the run has no paired outcomes yet: scoring its front on fit and test items",
            err=True,
        )
    asyncio.run(pair_run_held(run_dir, Settings.from_env(), progress=not as_json and sys.stderr.isatty()))
    left = unpaired(run_dir)  # pairing scores the front; a graph added with eval --add-to is not on it
    if left:
        shown = ", ".join(left[:4]) + (f" and {len(left) - 4} more" if len(left) > 4 else "")
        raise SearchError(
            f"{shown} in {run_dir} lack fit or test outcomes and are not on the run's front: add them again with "
            f"`rolegraph eval GRAPH --add-to {run_dir}`"
        )
    return load_outcomes(run_dir)


@RouteApp.command("fit", help=FIT_HELP)
def fit_cmd(
    run_dir: Annotated[Path, typer.Argument(help="a run directory written by optimize or demo")],
    target_flops: Annotated[
        float | None, typer.Option("--target-flops", help="best accuracy at mean FLOPs units <= X")
    ] = None,
    target_accuracy: Annotated[
        float | None, typer.Option("--target-accuracy", help="least mean FLOPs at fit accuracy >= Y")
    ] = None,
    tolerance: Annotated[
        float | None,
        typer.Option(
            "--tolerance",
            help=f"default target: the best graph's fit accuracy minus this (default {DEFAULT_TOLERANCE}); not with "
            "--target-flops or --target-accuracy, which set the target themselves",
        ),
    ] = None,
    max_stages: Annotated[
        int,
        typer.Option(
            "--max-stages", help="most stages in the cascade, 1 to 3 (each stage more multiplies time and memory)"
        ),
    ] = 3,
    out: Annotated[Path | None, typer.Option("--out", help=f"router file (default RUN_DIR/{ROUTER_FILE})")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the fit as JSON")] = False,
) -> None:
    from rolegraph.graphs.router_io import save_router
    from rolegraph.optimize.rebuild import hold_run
    from rolegraph.optimize.route_fit import fit_route

    check_options(target_flops, target_accuracy, DEFAULT_TOLERANCE if tolerance is None else tolerance, max_stages)
    check_tolerance(target_flops, target_accuracy, tolerance)
    if target_accuracy is not None and not 0.0 <= target_accuracy <= 1.0:
        raise SearchError(f"--target-accuracy is an accuracy in [0, 1], got {target_accuracy:g}")
    finished = _finished_run(run_dir)  # a path that is not a run fails here, in one line
    if out is not None:
        _check_out(run_dir, out)
    # held from reading the outcomes to writing router.yaml and the report: an `eval --add-to` (or a resume's
    # pairing) filing outcomes meanwhile would leave graphs with fit outcomes and no test ones in what is read
    with hold_run(run_dir):
        outcomes = _outcomes(run_dir, finished, as_json)
        fit = fit_route(
            run_dir,
            target_flops=target_flops,
            target_accuracy=target_accuracy,
            tolerance=tolerance,
            max_stages=max_stages,
            outcomes=outcomes,
        )
        path = save_router(fit.router, out or Path(run_dir) / ROUTER_FILE)
        if out is None:  # the run's report describes its router.yaml
            from rolegraph.reports import render

            render(run_dir)
    if as_json:
        payload = fit.model_dump(mode="json", exclude={"router"}) | {"router_file": str(path)}
        typer.echo(json.dumps(payload))
        return
    _print(fit, path)


def register(app: typer.Typer) -> None:
    app.add_typer(RouteApp, name="route")

"""`rolegraph eval`: score graphs (or routers) on a task's items and compare them paired."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import typer

from rolegraph.cli.eval_output import added_store_line, print_results, report_failures
from rolegraph.cli.graph_cmd import AllowCommandsOpt, graph_file_problems, silent_outputs
from rolegraph.cli.interrupt import SigtermAsInterrupt, eval_interrupted
from rolegraph.cli.mcp_check import check_mcp
from rolegraph.cli.options import (
    ALLOW_WEAK_SANDBOX,
    ALLOW_WEAK_SANDBOX_HELP,
    TASK_OPTION,
    TASK_OPTION_HELP,
    task_options,
)
from rolegraph.errors import GraphError, TaskError

if TYPE_CHECKING:
    from rolegraph.evaluate.result import EvalResult
    from rolegraph.evaluate.store import ResultsStore
    from rolegraph.graphs.router import RouterSpec
    from rolegraph.graphs.spec import GraphSpec
    from rolegraph.settings import Settings
    from rolegraph.tasks.base import Split

SPLITS = ("train", "validation", "test", "all")
DEFAULT_SPLIT = "test"
DEFAULT_SEED = 0
DEFAULT_CONCURRENCY = 8

EVAL_HELP = """Score one or more graphs on a task's items (the same items for every graph).

One graph: a summary table and per-node credit. Several graphs: a side-by-side table and a
paired comparison of the first graph against each other one (accuracy difference with a
paired-bootstrap 95% interval and p, and McNemar's exact test). Results are labelled by what
answered: simulated (sim models or serve-sim twins), partly simulated (a mix) or real. Every
evaluation is saved to the results store (see `rolegraph results`).

A graph file's MCP servers (`mcp_servers:`) are connected for the evaluation (with --add-to too), as for
`run` and `serve`: a stdio server starts only with --allow-commands or when its command is on the
allow-list in $ROLEGRAPH_HOME/settings.yaml; a server that cannot start stops the evaluation before any
item runs, and one that dies fails the items that call it with a node error naming it.

--world N runs the simulated (sim/*) models in seeded world N (default: the pool file's `world:`,
else 0, the calibrated world); a pool file in another world is an error.

A router file (`rolegraph route fit`) is scored like a graph: its cost and latency are what the stages
that ran actually spent, and its flops_units the FLOPs of the stages that ran (each estimated, as a
graph's are, from the task family's token profile, not the tokens measured), averaged per item.
--add-to RUN_DIR scores the files on a search run's paired fit and test items instead and adds them
to its paired outcomes: graphs for `route fit`, routers for comparison (route fit chains graphs
only). The run's own pool, world, roles (--roles-file may only repeat them), seed, concurrency and
store are used, so options that would change them are refused;
a data or pool file that changed since the search read it is refused too.

--json prints JSON Lines: one JSON object per graph, one per line, with keys task, graph, n,
accuracy, ci95, mean_latency_s, p95_latency_s, cost_usd (total), cost_usd_per_item, tokens,
flops_units (mean per item), failures, skipped, simulated (true only when every answer was simulated),
simulation ("simulated", "partly simulated" or "real"), provenance (per model: the server's model id,
endpoint, GGUF sha256 for local models, the simulator's fingerprint; per node: sampling parameters; the
seed and rolegraph's version), world (the simulator world, null when no sim model answered), run_id,
graph_file, trimmed_items (items on which a node was sent fewer search hits than its searchers found,
to fit its model's context window), timed_out_attempts and timed_out_usd (requests abandoned at their
model's timeout_s, which the endpoint may bill, and their worst case at the pool's prices; not in
cost_usd); a router's object adds `stages` (per stage: graph, share of items it answered, share that
reached it); the objects after the first add `vs_first` (the paired comparison).
"""


def _display_names(paths: list[Path], specs: Sequence[GraphSpec | RouterSpec]) -> list[str]:
    """Graph names, or file names where two graphs share a name (columns must be tellable apart)."""
    names = [s.name for s in specs]
    if len(set(names)) == len(names):
        return names
    stems = [str(p) for p in paths]
    return stems if len(set(stems)) == len(stems) else [f"{i + 1}:{p}" for i, p in enumerate(paths)]


def _load_graphs(paths: list[Path], pool, roles=None) -> list[GraphSpec | RouterSpec]:
    """Graph or router files, checked (a router's stages like graphs)."""
    from rolegraph.graphs.router import check_spec
    from rolegraph.graphs.router_io import load_spec

    specs = []
    for path in paths:
        spec = check_spec(load_spec(path), pool, roles.names() if roles is not None else None, source=str(path))
        problems = graph_file_problems(spec, roles) + silent_outputs(spec, roles)  # scoring an empty answer
        if problems:
            raise GraphError(problems, source=str(path))
        for node in spec.nodes:
            pool.require_key(node.model)  # a missing key fails now, not once per item
        specs.append(spec)
    return specs


async def _evaluate_all(
    specs: Sequence[GraphSpec | RouterSpec],
    task,
    items,
    *,
    settings: Settings,
    pool,
    store: ResultsStore,
    concurrency: int,
    seed: int,
    progress: bool | None,
    label: str | None,
    run_settings: list[dict],
    executor: Any = None,
    roles: Any = None,
    allow_commands: bool = False,
    scored: list[EvalResult] | None = None,
) -> list[EvalResult]:
    """Each graph in turn; `scored` (if given) gets each result as it is stored, for an interrupt's message."""
    from rolegraph.evaluate.runner import evaluate
    from rolegraph.models.hub import ModelHub
    from rolegraph.tools.mcp import mcp_toolbox
    from rolegraph.tools.toolbox import default_toolbox

    hub = ModelHub(pool, settings)
    try:
        toolbox = default_toolbox(settings, corpus=task.corpus(), web=False)
        async with contextlib.AsyncExitStack() as servers:
            # every graph's MCP servers first: one that cannot start stops the evaluation before any item runs
            boxes = [
                await servers.enter_async_context(
                    mcp_toolbox(getattr(spec, "mcp_servers", []), settings, toolbox, allow_commands=allow_commands)
                )
                for spec in specs
            ]
            results = scored if scored is not None else []
            for spec, meta, box in zip(specs, run_settings, boxes):
                results.append(
                    await evaluate(
                        spec,
                        task,
                        items,
                        hub=hub,
                        toolbox=box,
                        concurrency=concurrency,
                        seed=seed,
                        store=store,
                        progress=progress,
                        label=label,
                        store_settings=meta,
                        executor=executor,
                        roles=roles,
                        raise_on_all_failed=False,  # every graph's table first; report_failures exits 2
                    )
                )
            return results
    finally:
        await hub.aclose()


def eval_command(
    graphs: list[Path] = typer.Argument(..., help="Graph or router files (YAML or JSON); the first is the baseline."),
    task: str | None = typer.Option(
        None,
        "--task",
        "-t",
        help="Task name, e.g. gsm, arith, humaneval, or a file task (gsm8k, math, mmlu, hotpotqa) with --data.",
    ),
    data: Path | None = typer.Option(None, "--data", help="Data file for file-based tasks."),
    n: int | None = typer.Option(None, "--n", min=1, help="Number of items (default: the whole split)."),
    task_size: int | None = typer.Option(
        None,
        "--task-size",
        min=1,
        help="Items to generate for a generated task (gsm, arith): a larger set, or another --seed, gives fresh items.",
    ),
    task_option: list[str] | None = typer.Option(None, TASK_OPTION, metavar="KEY=VALUE", help=TASK_OPTION_HELP),
    split: str = typer.Option(DEFAULT_SPLIT, "--split", help=f"One of {', '.join(SPLITS)}."),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", help="Seed for the split and the runs."),
    concurrency: int = typer.Option(DEFAULT_CONCURRENCY, "--concurrency", "-c", min=1, help="Items run at once."),
    pool_file: Path | None = typer.Option(None, "--pool", help="Model pool YAML merged with the built-ins."),
    world: int | None = typer.Option(
        None, "--world", help="Simulator world of the sim models (default: the pool file's, else 0)."
    ),
    store_path: Path | None = typer.Option(
        None, "--store", help="Results store (default: results.sqlite in $ROLEGRAPH_HOME)."
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the response cache."),
    no_coalesce: bool = typer.Option(
        False, "--no-coalesce", help="One request per node, even where nodes of one model read identical messages."
    ),
    label: str | None = typer.Option(None, "--label", help="A label stored with these runs."),
    json_out: bool = typer.Option(False, "--json", help="JSON Lines: one object per graph (see above)."),
    executor_name: str = typer.Option("local", "--executor", help="Where items run: local, or ray (a Ray cluster)."),
    ray_address: str | None = typer.Option(
        None, "--ray-address", help="Ray cluster to join (default: start a local one)."
    ),
    allow_weak_sandbox: bool = typer.Option(False, ALLOW_WEAK_SANDBOX, help=ALLOW_WEAK_SANDBOX_HELP),
    roles_file: Path | None = typer.Option(
        None, "--roles-file", help="YAML file of your own roles the graphs use (as for optimize --roles-file)."
    ),
    add_to: Path | None = typer.Option(
        None, "--add-to", help="Score on a search run's paired items and add to its paired outcomes (route fit)."
    ),
    allow_commands: AllowCommandsOpt = False,
) -> None:
    from rolegraph.evaluate.executors import make_executor
    from rolegraph.evaluate.paired_stats import compare
    from rolegraph.evaluate.store import ResultsStore
    from rolegraph.models.pool import ModelPool
    from rolegraph.settings import Settings
    from rolegraph.tasks.registry import default_registry, get_task

    if add_to is not None:
        from rolegraph.cli.router_views import add_to_run

        # what would change the items or how they are scored and stored must be the run's own, to pair with it
        chosen = (
            ("--task", task),
            ("--data", data),
            ("--n", n),
            ("--task-size", task_size),
            (TASK_OPTION, task_option),
        )
        given = [o for o, v in (*chosen, ("--store", store_path), ("--label", label)) if v is not None]
        defaults = (("--split", split, DEFAULT_SPLIT), ("--seed", seed, DEFAULT_SEED))
        given += [o for o, v, d in (*defaults, ("--concurrency", concurrency, DEFAULT_CONCURRENCY)) if v != d]
        if given:
            raise TaskError(
                "--add-to scores the run's own items, with its seed and concurrency, into its own store: "
                f"drop {', '.join(given)}"
            )
        executor = make_executor(executor_name, address=ray_address)
        try:
            add_to_run(
                add_to,
                graphs,
                pool_file,
                json_out,
                allow_commands,
                roles_file=roles_file,
                world=world,
                settings=Settings.from_env(
                    cache=not no_cache, allow_weak_sandbox=allow_weak_sandbox, coalesce=not no_coalesce
                ),
                executor=executor,
                graph_problems=lambda spec, roles: graph_file_problems(spec, roles) + silent_outputs(spec, roles),
            )
        finally:
            executor.close()
        if not json_out:
            typer.echo(added_store_line(add_to))
        return
    if task is None:
        raise TaskError("give --task NAME (or --add-to RUN_DIR)")
    if split not in SPLITS:
        raise TaskError(f"unknown split '{split}'; choose from {', '.join(SPLITS)}")
    executor = make_executor(executor_name, address=ray_address)  # a wrong name fails before any work
    settings = Settings.from_env(cache=not no_cache, allow_weak_sandbox=allow_weak_sandbox, coalesce=not no_coalesce)
    pool = ModelPool.load(pool_file, world=world)
    roles = None
    if roles_file is not None:
        from rolegraph.agents.roles_file import load_roles

        roles = load_roles(roles_file)
    specs = _load_graphs(graphs, pool, roles)
    check_mcp(specs, settings, allow_commands, executor)
    names = _display_names(graphs, specs)
    options = task_options(task_option, task_size)
    the_task = get_task(task, data=data, seed=seed, **options)
    items = the_task.items(cast("Split", split), n, seed)  # one of SPLITS, checked above
    if not items:
        raise TaskError(f"task '{task}' has no items in split '{split}'")
    generated = "size" in (default_registry().entry(task).option_names() or ())  # gsm, arith
    if not generated and split != "all" and (n is None or len(items) < n):  # a benchmark file's own set
        whole = len(the_task.all_items())  # is not what split 'test' scores: say so, or figures mislead
        if len(items) < whole:
            typer.echo(
                f"note: split '{split}' of task '{task}' is {len(items)} of its "
                f"{whole} items (a fixed hold-out); --split all scores every item",
                err=True,
            )
    no_gold = int(getattr(the_task, "skipped", 0) or 0)  # in no split: not among the items, nor their `skipped`
    if no_gold:
        typer.echo(f"note: {no_gold} records of task '{task}' have no usable gold answer; none is scored", err=True)
    if n is not None and len(items) < n:  # say so: a smaller sample than asked widens every interval
        more = ["--split all"] if split != "all" else []
        if generated:
            more.append("--task-size")
        hint = f" ({' or '.join(more)} gives more)" if more else " (that is all the task has)"
        typer.echo(
            f"note: split '{split}' of task '{task}' has {len(items)} items; scoring {len(items)}, not {n}{hint}",
            err=True,
        )
    run_settings = [
        {
            "graph_file": str(p),
            "split": split,
            "n": n,
            "task_size": task_size,
            "task_options": {k: v for k, v in options.items() if k != "size"} or None,
            "seed": seed,
            "concurrency": concurrency,
            "data": str(data) if data else None,
            "pool": str(pool_file) if pool_file else None,
            "cache": not no_cache,
        }
        for p in graphs
    ]
    if store_path is None:
        settings.ensure_home()
    store = ResultsStore(store_path or settings.store_path)
    scored: list[EvalResult] = []
    try:
        with SigtermAsInterrupt() as term:  # SIGTERM stops as Ctrl-C does (calls in flight kept; exit 143)
            try:
                results = term.run(
                    _evaluate_all(
                        specs,
                        the_task,
                        items,
                        settings=settings,
                        pool=pool,
                        store=store,
                        concurrency=concurrency,
                        seed=seed,
                        progress=False if json_out else None,
                        label=label,
                        run_settings=run_settings,
                        executor=executor,
                        roles=roles,
                        allow_commands=allow_commands,
                        scored=scored,
                    )
                )
            except KeyboardInterrupt:  # Ctrl-C: say which graphs were stored (typer alone would exit 130 silently)
                raise eval_interrupted(names[: len(scored)], len(specs)) from None
    finally:
        executor.close()
        store.close()
    comparisons = [
        compare(results[0], r, base_name=names[0], other_name=name, seed=seed)
        for r, name in zip(results[1:], names[1:])
    ]
    print_results(results, specs, graphs, names, comparisons, json_out)
    report_failures(results, names)


def register(app: typer.Typer) -> None:
    """Add `eval` to the app."""
    app.command("eval", help=EVAL_HELP)(eval_command)

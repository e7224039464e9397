"""What `validate`, `show` and `run` print for a router file (graph files keep their own views in graph_cmd)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer


def summary_line(router: Any, pool: Any, profile: Any, family: str) -> str:
    """`validate`'s one line: the stages and what a run spends when it stops at the first or goes to the last."""
    from rolegraph.graphs.analysis import FlopsUnknownError
    from rolegraph.graphs.router import stage_flops

    try:
        flops = stage_flops(router, pool, profile)
        spend = f"{flops[0]:.2f} FLOPs units if stage 1 answers, {sum(flops):.2f} if every stage runs"
    except FlopsUnknownError:
        spend = "FLOPs units n/a"
    names = " -> ".join(s.graph.name for s in router.stages)
    sim = all(pool.get(n.model).simulated for n in router.nodes)
    return f"router, {len(router.stages)} stage(s): {names}; {spend} [{family} profile]" + (
        " (simulated models)" if sim else ""
    )


def show(router: Any, path: Path, pool: Any, profile: Any, family: str, mermaid: bool, png: Path | None) -> None:

    from rolegraph.cli.tables import stdout_console
    from rolegraph.graphs.render import nodes_table
    from rolegraph.graphs.router_render import render_router_png, router_mermaid, stages_table

    if mermaid:
        typer.echo(router_mermaid(router), nl=False)
    else:
        tables = [
            nodes_table(stage.graph, title=f"stage {i}: {stage.graph.name}")
            for i, stage in enumerate(router.stages, start=1)
        ]
        tables.append(stages_table(router, pool, profile, title=f"router {router.name} ({path}, {family} profile)"))
        console = stdout_console(*tables)  # piped: printed whole, ids and stop rules never broken (cli.tables)
        for table in tables:
            console.print(table)
        if router.description:
            console.print(router.description)
    if png is not None:
        written = render_router_png(router, png)
        typer.echo(f"wrote {written}", err=mermaid)


def print_stages(result: Any) -> None:
    """After a router run's node table: which stages ran, what each observed, where it stopped."""
    from rich.console import Console
    from rich.text import Text

    console = Console()
    for s in result.stages:
        sig = s.signals
        agreement = "-" if sig.agreement is None else f"{sig.agreement:.2f}"
        verdict = {None: "-", True: "accepts", False: "rejects"}[sig.verified]
        then = "answered" if s.stopped else "escalated"
        reused = f", read {', '.join(s.reused)} from earlier stages" if s.reused else ""
        console.print(
            Text(
                f"stage {s.stage} ({s.graph_name}): answer {s.answer}, agreement {agreement}, verifier {verdict}, "
                f"{s.flops_units:.2f} FLOPs units{reused} -> {then}"
            )
        )


def run_json_extra(result: Any) -> dict[str, Any]:
    """Keys `run --json` adds for a router: the stage that answered and each stage that ran."""
    return {"stage": result.stage, "stages": [s.model_dump() for s in result.stages]}


def stage_keys(result: Any, spec: Any) -> dict[str, Any]:
    """`eval --json` keys for a router: per stage, the share of items it answered and the share that reached it."""
    if getattr(spec, "kind", None) != "router":
        return {}
    n = max(result.n, 1)
    answered = [sum(1 for it in result.items if it.stage == i) / n for i in range(1, len(spec.stages) + 1)]
    reached = [sum(answered[i - 1 :]) for i in range(1, len(spec.stages) + 1)]
    return {
        "stages": [
            {"stage": i, "graph": s.graph.name, "answered": a, "reached": r}
            for i, (s, a, r) in enumerate(zip(spec.stages, answered, reached), start=1)
        ]
    }


def _run_roles(run_defs: list[dict], roles_file: Path | None) -> Any:
    """The roles `eval --add-to` checks graphs with: the run's own (its stored definitions, which its paired
    outcomes are scored with). A --roles-file may only repeat them: a role it adds or defines otherwise would
    not be the one the run scores with."""
    from rolegraph.agents.roles_file import load_roles, register_defs
    from rolegraph.errors import RolegraphError

    registry = register_defs(run_defs)
    if roles_file is not None:
        mine = {d["name"]: d for d in run_defs}
        for d in load_roles(roles_file).definitions:
            if mine.get(d["name"]) != d:
                how = "defines otherwise" if d["name"] in mine else "lacks"
                raise RolegraphError(
                    f"--add-to scores with the run's own roles, and role '{d['name']}' of {roles_file} is one the "
                    f"run {how}: drop --roles-file"
                )
    return registry


def add_to_run(
    run_dir: Path,
    files: list[Path],
    pool_file: Path | None,
    as_json: bool,
    allow_commands: bool = False,
    *,
    roles_file: Path | None = None,
    world: int | None = None,
    settings: Any = None,
    executor: Any = None,
    graph_problems: Callable[[Any, Any], list[str]] | None = None,
) -> None:
    """`eval --add-to RUN_DIR`: score the files on the run's paired items and file them there. The run's pool,
    world and roles are the ones used (new outcomes must pair with the stored ones); `settings` (cache,
    coalescing, sandbox) and `executor` only change how the items run, so they are honoured.
    `graph_problems(spec, roles)`: the checks plain `eval` makes (graph_cmd's `graph_file_problems` and
    `silent_outputs`: a graph whose output never answers would be filed as scoring 0, an unknown tool found
    only mid-run), passed in by the caller because graph_cmd imports this module (no import circle)."""
    import asyncio
    import json
    import sys

    from rolegraph.errors import GraphError, RolegraphError
    from rolegraph.graphs.router import RouterSpec, check_spec
    from rolegraph.graphs.router_io import load_spec
    from rolegraph.models.pool import ModelPool
    from rolegraph.optimize.api import add_to_run as add
    from rolegraph.optimize.rundir import RunStore
    from rolegraph.settings import Settings

    store = RunStore.open(run_dir)
    try:
        cfg = store.config()  # a data or pool file changed since the search read it is refused here
    finally:
        store.close()
    run_pool, run_world = cfg.get("pool"), int(cfg.get("world") or 0)
    if pool_file is not None and (run_pool is None or Path(pool_file).resolve() != Path(run_pool).resolve()):
        raise RolegraphError(f"--add-to uses the run's own pool ({run_pool or 'built-in'}): drop --pool")
    if world is not None and world != run_world:
        raise RolegraphError(f"--add-to scores in the run's own world ({run_world}): drop --world")
    pool = ModelPool.load(run_pool, world=run_world)
    roles = _run_roles(cfg.get("role_defs") or [], roles_file)
    specs = [check_spec(load_spec(path), pool, roles.names(), source=str(path)) for path in files]
    for path, spec in zip(files, specs):  # as plain `eval`: an empty answer is not filed as the graph's outcome
        problems = graph_problems(spec, roles) if graph_problems is not None else []
        if problems:
            raise GraphError(problems, source=str(path))
        for node in spec.nodes:
            pool.require_key(node.model)  # a missing key fails now, not once per item
    settings = settings or Settings.from_env()
    if executor is not None:
        from rolegraph.cli.mcp_check import check_mcp

        check_mcp(specs, settings, allow_commands, executor)  # MCP servers run in this process only
    progress = not as_json and sys.stderr.isatty()
    results = asyncio.run(
        add(run_dir, specs, settings, progress=progress, executor=executor, allow_commands=allow_commands)
    )
    for split, rows in results.items():
        for res in rows:
            line = {
                "split": split,
                "graph": res.graph_name,
                "n": res.n,
                "accuracy": res.accuracy,
                "flops_units": res.flops_units,
                "simulated": res.simulated,
                "run_id": res.run_id,
            }
            typer.echo(
                json.dumps(line)
                if as_json
                else f"{split}: {res.graph_name}: accuracy {res.accuracy:.3f} on {res.n} items, "
                f"{res.flops_units:.1f} FLOPs units{' (simulated)' if res.simulated else ''}"
            )
    if not as_json:
        already = len(specs) * 2 - sum(len(r) for r in results.values())
        if already:
            typer.echo(f"({already} already in the run's paired outcomes: kept as they were)")
        routers = [s.name for s in specs if isinstance(s, RouterSpec)]
        if len(routers) < len(specs):
            typer.echo(f"added to {run_dir}'s paired outcomes: `rolegraph route fit {run_dir}` considers them")
        if routers:  # route fit chains graphs; a router is not a stage of another router
            typer.echo(
                f"router(s) {', '.join(routers)} kept in {run_dir}'s paired outcomes for comparison on the same "
                "items: `rolegraph route fit` builds its cascades from graphs only"
            )


def demo_router(run_dir: str) -> Any:
    """The demo's last step: fit a router on its own run (written to RUN_DIR/router.yaml), holding the run
    directory as `route fit` does."""
    from rolegraph.graphs.router_io import ROUTER_FILE, save_router
    from rolegraph.optimize.rebuild import hold_run
    from rolegraph.optimize.route_fit import fit_route

    with hold_run(run_dir):
        fit = fit_route(run_dir)
        save_router(fit.router, Path(run_dir) / ROUTER_FILE)
    return fit


def router_summary(fit: Any) -> dict:
    return {
        "stages": fit.stages,
        "rules": fit.rules,
        "test": fit.test.model_dump(),
        "vs_best": fit.vs_best,
        "flops_ratio": fit.flops_ratio,
        "note": fit.note,
    }


def print_router(fit: Any) -> None:
    """The router's test point beside the best graph's and the best single model's lines."""
    from rich.console import Console

    t = fit.test
    sim = " (simulated)" if fit.simulated else ""
    shares = ", ".join(f"{share:.0%}" for share in t.shares)
    d = fit.vs_best
    Console().print(
        f"router:            test accuracy {t.accuracy:.3f}  vs best graph {d['diff']:+.3f} (paired 95% CI "
        f"[{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}])  n={t.n}  {t.flops_units:.1f} FLOPs units "
        f"({fit.flops_ratio:.2f}x the best graph's)  stages answered {shares}{sim}\n"
        f"                   {len(fit.stages)} stage(s): {' -> '.join(fit.stages)}; {fit.note}\n"
        f"                   router file: {Path(fit.run_dir) / 'router.yaml'} (rolegraph run / eval / show take it)"
    )

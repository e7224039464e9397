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
            console.print(router.description, markup=False)  # the file's text: a `[/]` in it is no tag
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


def stages_reached(item: Any) -> int:
    """How many stages of a router one scored item ran. An answered item stores the stage that answered, and ran
    every stage up to it; a failed item stores none, but every item enters stage 1, and the stages of the nodes
    whose usage its partial run kept (ids `s2.a`: `graphs.router.flat_id`) ran too."""
    from rolegraph.graphs.router import STAGE_SEP

    if item.stage:
        return int(item.stage)
    ran = [key.split(STAGE_SEP, 1)[0].removeprefix("s") for key in item.node_usage]
    return max([1, *(int(s) for s in ran if s.isdigit())])


def stage_keys(result: Any, spec: Any) -> dict[str, Any]:
    """`eval --json` keys for a router: per stage, the share of items it answered and the share that reached it.
    Both are counts over the items divided once (summed shares drift: 0.9999999999999999 for "every item"), and
    a failed item counts as reaching the stages it ran although no stage answered it."""
    if getattr(spec, "kind", None) != "router":
        return {}
    n = max(result.n, 1)
    count = len(spec.stages)
    answered = [sum(1 for it in result.items if it.stage == i) / n for i in range(1, count + 1)]
    ran = [stages_reached(it) for it in result.items]
    reached = [sum(1 for r in ran if r >= i) / n for i in range(1, count + 1)]
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
    import sys

    from rolegraph.errors import GraphError, RolegraphError
    from rolegraph.graphs.router import check_spec
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
    print_added(run_dir, specs, files, results, as_json)


KEPT_NOTE = "already in the run's paired outcomes{held_as}: kept as it was"
"""A graph `eval --add-to` did not score again; `held_as` names the graph the run holds when it was filed under
another name (the same graph, e.g. a single model the search itself scored)."""


def kept_note(spec: Any, res: Any) -> str:
    return KEPT_NOTE.format(held_as="" if res.graph_name == spec.name else f" as '{res.graph_name}'")


def add_to_object(split: str, res: Any, spec: Any, path: Path, added: bool, store: Path) -> dict[str, Any]:
    """One `eval --add-to --json` line: the keys plain `eval --json` prints for the graph (its task, ci95, world,
    the three-way simulation label, a router's stages...), with the split it was scored on, whether this call
    added it (false: the run held it already, and these are the figures it holds), and the results store holding
    `run_id` (the run's own, not $ROLEGRAPH_HOME's: `rolegraph results ID --store STORE`)."""
    obj = {
        "split": split,
        "added": added,
        **res.summary(),
        "graph": spec.name,
        "p95_latency_s": res.p95_latency_s,
        "skipped": res.skipped,
        "run_id": res.run_id,
        "store": str(store),
        "graph_file": str(path),
        "cost_usd_per_item": res.cost_usd / max(res.n, 1),
        **stage_keys(res, spec),
        **unmeasured(res),
    }
    return obj if added else {**obj, "note": kept_note(spec, res)}


def unmeasured(res: Any) -> dict[str, Any]:
    """The `--json` keys of a graph whose every item failed that are not measurements (null, not 0.0 and 0.0 s),
    and its label ("no answers": nothing answered to be simulated or real). Nothing when some item answered.
    Here rather than in eval_output (which imports this module) so plain `eval --json` and `eval --add-to
    --json` null the same keys."""
    from rolegraph.evaluate.report import NO_ANSWERS, shown_simulation

    if shown_simulation(res) is not None:
        return {}
    keys = ("accuracy", "ci95", "mean_latency_s", "p95_latency_s", "world")
    out = {**dict.fromkeys(keys), "simulated": False, "simulation": NO_ANSWERS}
    proven = getattr(res, "provenance", None)  # built from the pool's configured label: it said "real" here
    return out if proven is None else {**out, "provenance": {**proven.model_dump(), "simulation": NO_ANSWERS}}


def add_to_line(split: str, res: Any, spec: Any, added: bool) -> str:
    """One text line of `eval --add-to`: the graph's figures on a split, labelled simulated or partly simulated
    as the answers were, and for a graph the run held already, that it was kept rather than scored again."""
    from rolegraph.evaluate.report import shown_simulation
    from rolegraph.graphs.analysis import flops_phrase
    from rolegraph.models.provenance import label_suffix

    figures = (
        f"accuracy {res.accuracy:.3f} on {res.n} items, {flops_phrase(res.flops_units, 1)}"
        f"{label_suffix(shown_simulation(res))}"
    )
    return f"{split}: {spec.name}: {figures}" if added else f"{split}: {spec.name}: {kept_note(spec, res)} ({figures})"


def print_added(
    run_dir: Path, specs: list[Any], files: list[Path], results: dict[str, list[Any]], as_json: bool
) -> None:
    """What `eval --add-to` did, a line per graph and split: the figures of what it added, and for what the run
    held already (scored on these items before: not scored again) that it was kept, with the figures kept. A
    call that added nothing says so; with --json each line is an object (`add_to_object`), never nothing."""
    import json

    from rolegraph.evaluate.store import ResultsStore
    from rolegraph.graphs.router import RouterSpec
    from rolegraph.graphs.router_io import spec_hash
    from rolegraph.optimize.paired import FIT, PAIRED_SET, TEST, results_path

    hashes = [spec_hash(s) for s in specs]
    added_any = added_graph = False
    with ResultsStore(results_path(run_dir)) as store:
        for split in (FIT, TEST):
            new = {r.graph_hash: r for r in results.get(split, [])}
            held = {p.graph_hash: p.run_id for p in store.paired(PAIRED_SET, split)}
            for spec, path, h in zip(specs, files, hashes):
                res = new.get(h) or (store.load(held[h]) if h in held else None)
                if res is None:  # neither scored nor held: nothing to show (add_to_run scores every graph)
                    continue
                added = h in new
                added_any |= added
                added_graph |= added and not isinstance(spec, RouterSpec)
                line = (
                    add_to_object(split, res, spec, path, added, results_path(run_dir))
                    if as_json
                    else add_to_line(split, res, spec, added)
                )
                typer.echo(json.dumps(line, default=str) if isinstance(line, dict) else line)
    if as_json:
        return
    if not added_any:
        typer.echo(f"nothing added: every graph given is already in {run_dir}'s paired outcomes")
    elif added_graph:
        typer.echo(f"added to {run_dir}'s paired outcomes: `rolegraph route fit {run_dir}` considers them")
    routers = [s.name for s in specs if isinstance(s, RouterSpec)]
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
    from rolegraph.cli.tables import plain_console
    from rolegraph.models.provenance import label_suffix

    t = fit.test
    sim = label_suffix(fit.simulation)
    shares = ", ".join(f"{share:.0%}" for share in t.shares)
    d = fit.vs_best
    plain_console().print(  # stage names are graph names: text, never markup
        f"router:            test accuracy {t.accuracy:.3f}  vs best graph {d['diff']:+.3f} (paired 95% CI "
        f"[{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}])  n={t.n}  {t.flops_units:.1f} FLOPs units "
        f"({fit.flops_ratio:.2f}x the best graph's)  stages answered {shares}{sim}\n"
        f"                   {len(fit.stages)} stage(s): {' -> '.join(fit.stages)}; {fit.note}\n"
        f"                   router file: {Path(fit.run_dir) / 'router.yaml'} (rolegraph run / eval / show take it)"
    )

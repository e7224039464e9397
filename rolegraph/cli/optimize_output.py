"""What `rolegraph optimize` and `demo` print: the best graph against the best single model on held-out
test items, and, before a search on real endpoints, its estimated calls, tokens, dollars and time."""

from __future__ import annotations

from pathlib import Path

import typer

from rolegraph.graphs.analysis import flops_phrase
from rolegraph.graphs.router_io import ROUTER_FILE

JSON_HELP = (
    "print a JSON summary; its paid_usd, timed_out_attempts and timed_out_usd (requests abandoned at their "
    "timeout_s, and their worst-case dollars) are the run's totals over all its sessions, paid_calls this session's"
)
"""`--json`'s help: which figures a resumed search reports for the whole run, and which for this session alone."""

RUN_FILES = (
    "best_graph.yaml",
    "report.md",
    "report.html",
    "trace.json",
    "curve.png",
    "pareto.png",
    "graph.png",
    ROUTER_FILE,
)
"""The files a run directory can hold beside its store (listed only when present): best_graph.yaml and graph.png
once a graph was scored, report.html after `report --html`, router.yaml after `route fit` (or the demo)."""


def run_files(run_dir: str | Path) -> list[str]:
    """Which of `RUN_FILES` the run directory holds: a message naming files must name only files that exist
    (a run interrupted or stopped before it scored a graph has no best_graph.yaml and no graph.png)."""
    return [name for name in RUN_FILES if (Path(run_dir) / name).is_file()]


def score_suffix(score, world: int | None) -> str:
    """' (simulated) in world N' after a test score, from what answered that score's own items: a mixed pool's run is
    partly simulated, but its best graph or best single made of real models only is real, and saying otherwise (or
    naming a world nothing of it answered in) misreports it."""
    from rolegraph.models.provenance import REAL, SIMULATED, label_suffix

    label = score.simulation or (SIMULATED if score.simulated else REAL)
    sim = label_suffix(label)
    return f"{sim} in world {world}" if sim and world is not None else sim


def iterations_phrase(result) -> str:
    """The summary line's "over N iterations", and the pilot when it ran before iteration 1 as an extra iteration 0
    (the GP and v1 agents' pilot: `--iterations 2` gives three feedback steps, one of them the pilot's), in
    report.md's words (`feedback_label`): without it, N iterations beside the agent's N + 1 steps read as a
    miscount."""
    from rolegraph.reports.wording import feedback_label, own_pilot

    records = result.trace.records
    text = f"over {result.iterations} iterations"
    if any(r.iteration == 0 for r in own_pilot(records)):
        text += f" plus the {feedback_label(0, records)} as one more feedback step"
    return text


def print_result(result, elapsed: float | None = None) -> None:
    """Best graph against the best single model, both on test items with Wilson intervals."""
    from rolegraph.cli.tables import plain_console, stdout_console
    from rolegraph.evaluate.report import cache_note, timed_out_note
    from rolegraph.graphs.render import nodes_table
    from rolegraph.models.provenance import REAL
    from rolegraph.reports.selection import confidence_text, selection_text

    console = plain_console()  # graph names and labels in these lines are text, never markup
    sim = score_suffix(result.test, result.world)
    table = nodes_table(result.best_graph, title=f"best graph found by {result.optimizer}{sim}")
    stdout_console(table).print(table)  # laid out for the screen: a narrow one wraps cells, never cuts an id
    t = result.test
    console.print(
        f"best graph:        test accuracy {t.accuracy:.3f}  95% CI [{t.ci95[0]:.3f}, {t.ci95[1]:.3f}]  "
        f"n={t.n} held out  {flops_phrase(t.flops_units, 1)}  {t.latency_s:.2f} s/item{sim}"
    )
    row = next((c for c in result.candidates if c["hash"] == result.best_hash), None)
    if result.cap_miss:
        console.print(result.cap_miss, style="yellow", markup=False)
    if row is not None and (chosen_on := selection_text(row)):
        console.print(chosen_on)
    if row is not None and (sure := confidence_text(row, candidates=result.candidates)):
        console.print(sure)
    single = result.best_single
    if single is not None:
        picked = f"; the best of {len(result.singles)} on these items, so optimistic" if len(result.singles) > 1 else ""
        console.print(
            f"best single model{picked}: test accuracy {single.accuracy:.3f}  95% CI [{single.ci95[0]:.3f}, "
            f"{single.ci95[1]:.3f}]  n={single.n}  {flops_phrase(single.flops_units, 1)}  "
            f"{single.latency_s:.2f} s/item  ({single.label}){score_suffix(single, result.world)}"
        )
    cached, calls = (
        t.cached_calls + sum(s.cached_calls for s in result.singles),
        t.calls + sum(s.calls for s in result.singles),
    )
    if cached:
        console.print(f"test runs: {cache_note(cached, calls)}")
    if abandoned := timed_out_note(*result.timed_out):  # the run's, as --json's: a resume's total holds the earlier
        console.print(f"over all sessions, {abandoned}", style="yellow", markup=False)
    usage = result.feedback_agent
    agent = f", feedback agent {usage.headline()}" if usage else ""
    took = f" in {elapsed:.1f} s" if elapsed is not None else ""
    console.print(f"{result.evaluations} item-level graph runs {iterations_phrase(result)}{agent}{took}")
    warm = result.warm_start
    if warm is not None:  # what carried over, and what did not (another task's scores are not evidence)
        console.print("; ".join([warm["carried"], *warm["not_carried"]]), markup=False)
    if usage is not None and usage.steps == 0 and result.optimizer == "agent-reinforce":
        console.print(  # the pilot hands out --samples graphs per iteration: a short search can end inside it
            f"note: no feedback step ran: the pilot took all {result.iterations} iterations (it scores its graphs "
            "--samples per iteration); raise --iterations or --samples for the search to learn",
            style="yellow",
            markup=False,
        )
    if usage is not None and usage.warning():
        console.print(usage.warning(), style="yellow", markup=False)
    if result.simulation != REAL:
        console.print(f"{result.simulation} results: they show the search working, not claims about real models")
    if result.run_dir:
        console.print(f"run directory: {result.run_dir}  ({', '.join(run_files(result.run_dir))})")


def print_estimate(space, config, task, optimizer, agent_model: str | None) -> None:
    """Calls, tokens, dollars and time of the search, on stderr, before it starts (real endpoints only)."""
    from rolegraph.models.timings import measured_rates
    from rolegraph.optimize.estimate import estimate_search, pilot_plan
    from rolegraph.settings import Settings

    splits = {s: task.items(s, seed=config.data_seed) for s in ("train", "validation", "test")}
    sizes = {s: len(items) for s, items in splits.items()}
    pilot, pilot_items = pilot_plan(optimizer, space, config, sizes["train"])
    agent = space.pool.get(agent_model) if agent_model else None
    # the agent's own timed calls (the space holds the task models' only): its seconds per call, when measured
    rates = measured_rates(Settings.from_env().home, [agent]).get(agent.id) if agent is not None else None
    estimate = estimate_search(
        space,
        config,
        sizes,
        pilot=pilot,
        pilot_items=pilot_items,
        agent=agent,
        agent_rates=rates,
        questions=[it for items in splits.values() for it in items],  # calls priced with the task's own questions
        answer_kind=task.answer_kind,  # and the roles' prompts with its answer format
    )
    for line in estimate.lines():
        typer.echo(line, err=True)
    if config.max_dollars is None:
        typer.echo(
            "  (cap the spending with --max-dollars D: the search stops, resumably, when it is reached)", err=True
        )

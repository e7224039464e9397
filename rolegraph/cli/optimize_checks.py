"""Checks of `rolegraph optimize`'s options that need more than one option's value, made before any work:
what `--resume` may be given, and whether `--max-evaluations` lets the search score anything."""

from __future__ import annotations

from typing import Any

import typer

from rolegraph.errors import SearchError

RESUME_OPTIONS = frozenset(
    {"resume", "max_dollars", "world", "as_json", "executor_name", "ray_address", "allow_weak_sandbox"}
)
"""Parameters `--resume` takes: the new dollar cap, the run's own world (checked), and how to run and print.
Everything else is the run's own setting, fixed when it was started."""
UNSET_SOURCES = frozenset({"DEFAULT", "DEFAULT_MAP"})
"""Parameter sources of an option the user did not give. Compared by name: typer 0.29 carries its own copy
of click (`typer._click`), whose ParameterSource is not `click.core`'s."""


def check_resume_options(ctx: typer.Context) -> None:
    """Refuse options a resumed run would ignore (it continues as it was started): exit 2 naming them, so
    `--resume DIR --iterations 20` never runs quietly with the run's own 10. Then say so on stderr when the run
    has nothing to resume (`restart_note`). The run directory is read first: a missing one is the mistake to
    name, not the options given beside it."""
    note = restart_note(ctx.params["resume"])
    given = []
    for param in ctx.command.params:
        if param.name is None or param.name in RESUME_OPTIONS:
            continue
        source = ctx.get_parameter_source(param.name)
        if source is not None and source.name not in UNSET_SOURCES:
            given.append(param.opts[0] if param.opts else param.name)
    if given:
        raise SearchError(f"--resume continues the run as it was started: drop {', '.join(given)}")
    if note is not None:
        typer.echo(f"note: {note}", err=True)


def restart_note(run_dir: Any) -> str | None:
    """The note for `--resume` of a run stopped before its first checkpoint (None when it has one): there is no
    state to go on from, so the search starts again from the beginning with its stored settings, answering the
    calls it already made from the response cache. It works, but silently it would read as a resume."""
    from rolegraph.optimize.rundir import RunStore

    store = RunStore.open(run_dir)  # not a run directory: its own one-line error, as the resume would give
    try:
        if store.checkpoint() is not None:
            return None
    finally:
        store.close()
    return (
        f"{run_dir} has no checkpoint (its search stopped before the first one): nothing to resume, so the search "
        "starts again from the beginning with its stored settings; calls already made are answered from the "
        "response cache"
    )


def check_evaluation_budget(config: Any, task: Any) -> None:
    """An evaluation budget too small for one graph on one training batch after the re-check's reserve would
    make a run directory and then fail with "evaluated no graph": refuse it first, saying the minimum."""
    if config.max_evaluations is None:
        return
    train = sum(1 for it in task.items("train", seed=config.data_seed) if it.gold is not None)
    least = config.min_evaluations(train)
    if config.max_evaluations < least:
        raise SearchError(
            f"--max-evaluations {config.max_evaluations} is too small to score one graph on one training batch: "
            f"give at least {least} (a batch of {least - config.reserve} items + the {config.reserve} kept to "
            f"re-check {config.top_candidates} candidates on --validation-items {config.validation_items}), "
            "or lower --batch or --validation-items"
        )


def print_split_notes(config: Any, task: Any) -> None:
    """A note on stderr per count the task's splits cannot fill (as `eval` notes a short split), before the run
    starts. The search says the same from Python as a `SplitShortfallWarning`: this process has said it already,
    so that warning is silenced here (one command, one process), not printed twice."""
    import warnings

    from rolegraph.optimize.context import SplitShortfallWarning, split_shortfalls

    for note in split_shortfalls(task, config):
        typer.echo(f"note: {note}", err=True)
    warnings.filterwarnings("ignore", category=SplitShortfallWarning)

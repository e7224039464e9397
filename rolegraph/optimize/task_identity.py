"""What identifies a search's task, so that a warm start (`--init-from`) and a resume know which items it scored.

The command line records the task as it was asked for (`task_args`: name, data file, seed, options). A Python
caller hands over a built `Task` and often no `task_args`; recording only its name made `get_task("gsm")` and
`get_task("gsm", seed=5)` look like the same task, so a warm start pooled scores of other items. `task_args_of`
reads back what the task exposes (its seed, its data file, the options its factory takes that it keeps as
attributes), in the command line's layout; `items_digest` hashes the items themselves, which settles the question
for any task, a caller's own class included.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from pathlib import Path
from typing import Any

from rolegraph.errors import TaskError
from rolegraph.tasks.base import Task

SCALARS = (str, int, float, bool)
"""Option values that can be stored and passed to the task's factory again (`rebuild`)."""


def task_args_of(task: Task) -> dict[str, Any]:
    """`task_args` for a task given without them: {"name", "seed"} plus, for a task of the built-in registry,
    its data file (resolved, as the command line records it) and the factory options the task keeps as
    attributes and that differ from the factory's defaults (so an option left at its default compares equal
    to a command line that did not give it)."""
    from rolegraph.tasks.registry import default_registry

    seed = getattr(task, "seed", 0)
    args: dict[str, Any] = {"name": task.name, "seed": seed if isinstance(seed, int) else 0}
    try:
        entry = default_registry().entry(task.name)
    except TaskError:  # a task of the caller's own: its items digest identifies it
        return args
    path = getattr(task, "path", None)
    if entry.needs_data and path is not None:
        args["data"] = str(Path(path).expanduser().resolve())
    for name, param in inspect.signature(entry.factory).parameters.items():
        if name in ("data", "seed") or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        value = getattr(task, name, None)
        if isinstance(value, SCALARS) and value != param.default:
            args[name] = value
    return args


def items_digest(task: Task) -> str:
    """The sha256 of the task's items (ids, questions, golds, in order): equal digests, the same items."""
    rows = [[item.id, item.question, item.gold] for item in task.all_items()]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode("utf-8")).hexdigest()

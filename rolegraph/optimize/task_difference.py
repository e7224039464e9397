"""What differs between the task an earlier run scored and this search's, said in words (`--init-from`).

A warm start imports an earlier run's evidence only from the same task on the same data (`warmstart`); when it
does not, its one line says why. "the earlier run scored another task or data" was the line for every case, also
for the same task at another `--task-size`, where a user who changed one number could not tell what the run saw.
The two runs' task arguments tell it: another task name, another size, other options, or a data file given to one
run and not the other (or another file), each named with its values then and now.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from rolegraph.errors import TaskError

PREFIX = "the earlier run scored"
SIZE_KEY = "size"
"""The task option `--task-size` sets (gsm, arith): said as a number of items."""
UNSET = "unset"
"""An option one run gave and the other left out, where the task's factory shows no default to name."""


def task_difference(
    old: dict[str, Any], new: dict[str, Any], old_data: str | None, new_data: str | None, name: str | None
) -> str:
    """Why two runs' tasks differ, for runs whose task options (`old`, `new`: without `data`) or data presence
    differ. `name`: this search's task name, whose factory's defaults stand in for an option one side left out."""
    then_name, now_name = old.get("name"), new.get("name")
    if then_name != now_name:
        return f"{PREFIX} another task ('{then_name}'; this search: '{now_name}')"
    if (old_data is None) != (new_data is None):
        then = f"the data file {Path(old_data).name}" if old_data is not None else "no data file"
        now = f"the data file {Path(new_data).name}" if new_data is not None else "none"
        return f"{PREFIX} task '{now_name}' with {then} (this search: {now})"
    defaults = _defaults(name)
    changed = sorted(k for k in {*old, *new} - {"name"} if old.get(k, defaults.get(k)) != new.get(k, defaults.get(k)))
    shown = {k: (_value(old, k, defaults), _value(new, k, defaults)) for k in changed}
    if list(shown) == [SIZE_KEY]:
        then, now = shown[SIZE_KEY]
        return f"{PREFIX} the same task at another size ({then} -> {now} items)"
    if not shown:  # equal once defaults are filled in: told apart only by how the options were given
        return f"{PREFIX} task '{now_name}' with its options given otherwise"
    listed = ", ".join(f"{k} {then} -> {now}" for k, (then, now) in shown.items())
    return f"{PREFIX} the same task with other options ({listed})"


def data_file_difference(old_data: str, new_data: str | Path) -> str:
    """Two runs read different data files: their names, or their paths where the names are the same."""
    then, now = Path(old_data), Path(new_data)
    if then.name == now.name:
        return f"{PREFIX} another data file ({then}; this search: {now})"
    return f"{PREFIX} another data file ({then.name}; this search: {now.name})"


def _value(args: dict[str, Any], key: str, defaults: dict[str, Any]) -> str:
    if key in args:
        return str(args[key])
    return str(defaults[key]) if key in defaults else UNSET


def _defaults(name: str | None) -> dict[str, Any]:
    """The task factory's keyword defaults (what a left-out option is); none for a task the registry lacks."""
    from rolegraph.tasks.registry import default_registry

    try:
        params = inspect.signature(default_registry().entry(str(name)).factory).parameters
    except TaskError:
        return {}
    return {k: p.default for k, p in params.items() if p.default is not inspect.Parameter.empty}

"""Options several commands share, spelled once."""

from __future__ import annotations

from typing import Any

ALLOW_WEAK_SANDBOX = "--allow-weak-sandbox"
ALLOW_WEAK_SANDBOX_HELP = (
    "Run model code (the python tool, HumanEval scoring) even where the sandbox has neither namespaces nor its "
    "seccomp filter (rlimits only: the code can reach the network). Off: such code is refused with one line."
)

TASK_OPTION = "--task-option"
TASK_OPTION_HELP = (
    "A task option as KEY=VALUE, repeatable: for jsonl, question_field, answer_field, id_field, choices_field, "
    "family (math, qa or mmlu: picks the scorer) and metric (em or f1, for qa); for hotpotqa, metric (em or f1); "
    "for humaneval, timeout_s (seconds per candidate)."
)


def task_options(pairs: list[str] | None, size: int | None) -> dict[str, Any]:
    """`--task-option KEY=VALUE`s (and `--task-size`) as the task's keyword options; a malformed pair is the
    user's one-line error. The task itself refuses keys it does not take (`TaskRegistry.get_task`)."""
    from rolegraph.errors import TaskError

    options: dict[str, Any] = {}
    for pair in pairs or ():
        key, eq, value = pair.partition("=")
        if not eq or not key.strip() or not value.strip():
            raise TaskError(f"{TASK_OPTION} takes KEY=VALUE (e.g. family=qa), got {pair!r}")
        if key.strip() in options:
            raise TaskError(f"{TASK_OPTION} {key.strip()} is given twice")
        options[key.strip()] = value.strip()
    if "size" in options:
        raise TaskError(f"give the size with --task-size, not {TASK_OPTION} size=")
    return options | ({"size": size} if size is not None else {})

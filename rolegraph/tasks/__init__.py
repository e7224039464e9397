"""Tasks: items with seeded splits, a scorer and a family; built-in tasks and standard file loaders.

    from rolegraph.tasks import get_task
    task = get_task("math", data="math500_test.jsonl")
    items = task.items("test", n=50, seed=0)

See `rolegraph.tasks.registry` for adding a task of your own.
"""

from rolegraph.tasks.base import SPLIT_FRACTIONS, Split, Task
from rolegraph.tasks.registry import TaskEntry, TaskRegistry, default_registry, get_task, task_names

__all__ = [
    "SPLIT_FRACTIONS",
    "Split",
    "Task",
    "TaskEntry",
    "TaskRegistry",
    "default_registry",
    "get_task",
    "task_names",
]

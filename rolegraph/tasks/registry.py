"""Task names -> task factories, with one-line errors for unknown names, options and missing data.

`get_task("gsm", size=100)` builds a built-in task; file tasks need `data=PATH`. There is no
module-level registry to mutate: `default_registry()` returns a fresh `TaskRegistry` holding the
built-ins, and a program adds its own tasks to that object.

Adding a task is a small class and one registration::

    >>> from rolegraph.items import Item
    >>> from rolegraph.tasks import Task, default_registry
    >>> from rolegraph.tasks.qa_metrics import exact_match
    >>> class Capitals(Task):
    ...     name, family, answer_kind = "capitals", "qa", "qa"
    ...     def all_items(self):
    ...         return [Item(id="fr", question="What is the capital of France?", gold="Paris", family="qa"),
    ...                 Item(id="jp", question="What is the capital of Japan?", gold="Tokyo", family="qa")]
    ...     def score(self, prediction, item):
    ...         return exact_match(prediction, item.gold)
    >>> registry = default_registry()
    >>> registry.register_task("capitals", lambda data=None, seed=0: Capitals(), summary="two capitals")
    >>> task = registry.get_task("capitals")
    >>> [task.score(answer, item) for answer, item in zip(["paris", "Kyoto"], task.items())]
    [1.0, 0.0]

A factory is called as `factory(data=path_or_None, seed=seed, **options)`; give `data_format`
when registering a task that reads a file, so a missing `--data` names the format.
"""

from __future__ import annotations

import inspect
import numbers
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from rolegraph.errors import TaskError, did_you_mean, shown_arg
from rolegraph.tasks.base import Task

TaskFactory = Callable[..., Task]
_RESERVED = ("data", "seed")
SIZE_OPTION = "size"
"""The option of generated tasks that the command line spells `--task-size`."""


@dataclass(frozen=True)
class TaskEntry:
    """How to build one task. `data_format` is None for tasks that read no file."""

    factory: TaskFactory
    data_format: str | None = None
    summary: str = ""

    @property
    def needs_data(self) -> bool:
        return self.data_format is not None

    def option_names(self) -> list[str] | None:
        """Options the factory accepts beyond data and seed; None when it takes any (**kwargs)."""
        params = inspect.signature(self.factory).parameters.values()
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            return None
        return [
            p.name
            for p in params
            if p.name not in _RESERVED
            and p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        ]


class TaskRegistry:
    """A name -> TaskEntry table owned by whoever created it."""

    def __init__(self, entries: Mapping[str, TaskEntry] | None = None):
        self._entries: dict[str, TaskEntry] = dict(entries or {})

    def register_task(
        self,
        name: str,
        factory: TaskFactory,
        *,
        data_format: str | None = None,
        summary: str = "",
        replace: bool = False,
    ) -> None:
        """Add a task; re-registering a name needs `replace=True`."""
        if not name or name != name.strip() or " " in name:
            raise TaskError(f"task name {name!r} must be a non-empty word without spaces")
        if name in self._entries and not replace:
            raise TaskError(f"task '{name}' is already registered (pass replace=True to override it)")
        self._entries[name] = TaskEntry(factory=factory, data_format=data_format, summary=summary)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entry(self, name: str) -> TaskEntry:
        if not isinstance(name, str):  # from Python: None is not a task name, and a list is not even hashable
            raise TaskError(
                f"a task name is a string such as 'gsm', got {shown_arg(name)}. Known tasks: {', '.join(self.names())}."
            )
        if name not in self._entries:
            hint = did_you_mean(name, self._entries)
            listed = "" if hint.startswith(" Known:") else f" Known tasks: {', '.join(self.names())}."
            raise TaskError(f"unknown task '{name}'.{hint}{listed}")
        return self._entries[name]

    def describe(self) -> list[tuple[str, str, str | None]]:
        """(name, summary, data format or None) for listing in the CLI."""
        return [(name, self._entries[name].summary, self._entries[name].data_format) for name in self.names()]

    def get_task(self, name: str, data: str | Path | None = None, seed: int = 0, **options: object) -> Task:
        """Build the named task; every user mistake is a one-line TaskError/DataFileError."""
        entry = self.entry(name)
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            # a str seed failed deep inside the task's generator (reasoning-gym) as a TypeError
            raise TaskError(f"task '{name}': seed must be an integer, got {shown_arg(seed)}")
        if data is not None and not isinstance(data, (str, os.PathLike)):
            raise TaskError(f"task '{name}': data must be a path (str or Path), got {shown_arg(data)}")
        if entry.needs_data and (data is None or str(data) == ""):
            raise TaskError(f"task '{name}' needs --data PATH: a {entry.data_format} file")
        if not entry.needs_data and data is not None:
            raise TaskError(f"task '{name}' is built in and reads no data file; drop --data")
        allowed = entry.option_names()
        if allowed is not None:
            unknown = sorted(set(options) - set(allowed))
            if unknown == [SIZE_OPTION]:
                raise TaskError(_no_size(name, entry))
            if unknown:
                offered = ", ".join(allowed) if allowed else "none"
                raise TaskError(f"task '{name}' has no option {', '.join(map(repr, unknown))} (options: {offered})")
        return entry.factory(data=data, seed=seed, **options)


def _no_size(name: str, entry: TaskEntry) -> str:
    """Only a generated task takes a size; the user typed `--task-size` (or size= from Python), not 'size'."""
    source = "reads its items from --data" if entry.needs_data else "has a fixed set of items"
    return (
        f"task '{name}' takes no --task-size (size=): it {source}; --n N scores fewer of them "
        "(only generated tasks, such as gsm and arith, take a size)"
    )


@lru_cache(maxsize=1)
def _builtin_entries() -> Mapping[str, TaskEntry]:
    """The built-in tasks, built once and read-only (imports stay lazy until a task is asked for)."""
    import rolegraph.tasks.gsm8k as gsm8k
    import rolegraph.tasks.gym as gym
    import rolegraph.tasks.hotpotqa as hotpotqa
    import rolegraph.tasks.humaneval as humaneval
    import rolegraph.tasks.jsonl_task as jsonl_task
    import rolegraph.tasks.math_task as math_task
    import rolegraph.tasks.mmlu as mmlu

    return MappingProxyType(
        {
            "gsm": TaskEntry(gym.make_gsm, None, "GSM-style word problems (reasoning-gym gsm_symbolic, seeded)"),
            "arith": TaskEntry(gym.make_arith, None, "multi-step integer arithmetic (reasoning-gym, seeded)"),
            "humaneval": TaskEntry(humaneval.make_humaneval, None, "the 164 HumanEval problems, pass@1 in the sandbox"),
            "gsm8k": TaskEntry(gsm8k.make_gsm8k, gsm8k.GSM8K_FORMAT, "GSM8K word problems from a file"),
            "math": TaskEntry(math_task.make_math, math_task.MATH_FORMAT, "MATH / MATH-500 problems from a file"),
            "hotpotqa": TaskEntry(
                hotpotqa.make_hotpotqa,
                hotpotqa.HOTPOT_FORMAT,
                "multi-hop QA; its context paragraphs are the search corpus",
            ),
            "mmlu": TaskEntry(mmlu.make_mmlu, mmlu.MMLU_FORMAT, "four-way multiple choice from a file"),
            "jsonl": TaskEntry(
                jsonl_task.make_jsonl,
                "JSONL {question, answer} (fields: question_field=, answer_field=)",
                "any JSONL question/answer file; family= picks the scorer",
            ),
        }
    )


def default_registry() -> TaskRegistry:
    """A fresh registry holding the built-in tasks; adding to it changes no one else's."""
    return TaskRegistry(_builtin_entries())


def get_task(
    name: str, data: str | Path | None = None, seed: int = 0, *, registry: TaskRegistry | None = None, **options: object
) -> Task:
    """Build a task by name from `registry` (default: the built-ins)."""
    return (registry or default_registry()).get_task(name, data=data, seed=seed, **options)


def task_names(registry: TaskRegistry | None = None) -> list[str]:
    return (registry or default_registry()).names()

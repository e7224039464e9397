"""Notes on a task whose splits are smaller than what a search asks of them (`split_shortfalls`).

Every count a search draws from a split is cut to the split's size without a word otherwise: training batches
(`SearchContext.batch`), the final re-check's validation items (`recheck`), the test set (`final.finish`) and the
fit items routing is scored on (`paired.fit_items`: validation items, then training items). A test score on 2
items, or a choice re-checked on 1 validation item when 48 were asked, is not the estimate the user thinks it is,
so each shortfall is said before the run starts (the CLI's notes, Python's `SplitShortfallWarning`).

Kept apart from `context` (at the module size limit), which re-exports both names; the config is taken by the
fields read (`Asked`), so this module needs nothing of `context` and no import circle arises.
"""

from __future__ import annotations

from typing import Protocol

from rolegraph.errors import RolegraphWarning
from rolegraph.tasks.base import Split, Task


class SplitShortfallWarning(RolegraphWarning):
    """A split of the task is smaller than the search asked of it (`split_shortfalls`), said from Python by
    `optimize_async`; the CLI prints these as notes of its own before the run starts and silences this class."""


class Asked(Protocol):
    """What `split_shortfalls` reads of a `SearchConfig`."""

    batch: int
    validation_items: int
    test_items: int
    data_seed: int
    route_items: int | None

    @property
    def routing_items(self) -> int: ...

    @property
    def reserve(self) -> int: ...


def split_shortfalls(task: Task, config: Asked) -> list[str]:
    """One note per count the task's splits cannot fill, in the order the search uses them (see the module
    docstring). Fit items for routing come from the validation and training splits together, so they fall short
    only of both; 0 route items asks for none. Their default (`--route-items` not given: twice the re-check's
    reserve) is a target, not a request: it is noted only when the splits cannot give even one reserve (`rolegraph
    demo` asks 384 of gsm's 375 and uses them all, which is no shortfall worth a line)."""
    have = {
        split: len([it for it in task.items(split, seed=config.data_seed) if it.gold is not None])
        for split in ("train", "validation", "test")
    }
    asked: tuple[tuple[tuple[Split, ...], int, str, str], ...] = (
        (("train",), config.batch, "training batches will use", "--batch"),
        (
            ("validation",),
            config.validation_items,
            "the re-check of the top candidates will use at most",
            "--validation-items",
        ),
        (("test",), config.test_items, "the test score will use", "--test-items"),
        (("validation", "train"), config.routing_items, "routing's fit items will use", "--route-items"),
    )
    notes = []
    for splits, want, use, flag in asked:
        n = sum(have[s] for s in splits)
        asked_for = f"{flag} {want}"
        if flag == "--route-items" and config.route_items is None:
            if n >= config.reserve:
                continue
            asked_for = f"{want} ({flag}' default)"
        if 0 < n < want:
            which = " and ".join(f"'{s}'" for s in splits)
            which = (
                f"split {which} of task '{task.name}' has"
                if len(splits) == 1
                else f"splits {which} of task '{task.name}' have"
            )
            notes.append(f"{which} {n} items: {use} {n}, not {asked_for}")
    return notes

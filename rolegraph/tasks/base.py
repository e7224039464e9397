"""`Task`: items with seeded splits, a scorer, and a family the sim pool calibrates against."""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from rolegraph.errors import TaskError
from rolegraph.items import Family, Item

if TYPE_CHECKING:
    from rolegraph.settings import Settings

Split = Literal["train", "validation", "test", "all"]
SPLIT_FRACTIONS = {"train": 0.5, "validation": 0.25, "test": 0.25}
"""Fixed-size tasks are cut into these shares after one seeded shuffle."""
SPLITS: tuple[str, ...] = (*SPLIT_FRACTIONS, "all")


class Task(ABC):
    """A set of items and how to score an answer. Subclasses load or generate `all_items()`."""

    name: str = "task"
    family: Family = "math"
    answer_kind: str = "math"  # what `rolegraph.answers.extract_answer` should look for

    @abstractmethod
    def all_items(self) -> list[Item]:
        """Every item, in a stable order (items without a usable gold are excluded, see `skipped`)."""

    @abstractmethod
    def score(self, prediction: str | None, item: Item) -> float:
        """1.0 right, 0.0 wrong (partial credit allowed, e.g. F1); `None` prediction scores 0."""

    skipped: int = 0
    """Items dropped because they had no usable gold answer."""

    runs_model_code: bool = False
    """Scoring executes the prediction (in the python sandbox): a run checks the sandbox first."""

    def scorer(self, settings: Settings) -> Callable[[str | None, Item], float]:
        """`score` as this run's settings want it (a code task: the sandbox policy); by default `score` itself."""
        return self.score

    def corpus(self) -> list[dict] | None:
        """Documents {title, text, url?} a searcher should retrieve from for this task, if any."""
        return None

    def items(self, split: Split = "all", n: int | None = None, seed: int = 0) -> list[Item]:
        """A seeded split: one shuffle of all items by `seed`, cut by SPLIT_FRACTIONS, then the first n.

        An unknown split or a negative n is a TaskError: a slice would take `n=-1` as 'all but the last' and
        a typo'd split would surface as a bare KeyError."""
        if split not in SPLITS:
            raise TaskError(f"unknown split '{split}' of task '{self.name}'. Known: {', '.join(SPLITS)}.")
        if n is not None and n < 0:
            raise TaskError(f"n must be >= 0 (or None for all items), got {n}")
        items = list(self.all_items())
        if split != "all":
            random.Random(f"{self.name}:{seed}").shuffle(items)
            total = len(items)
            cut_train = int(total * SPLIT_FRACTIONS["train"])
            cut_val = cut_train + int(total * SPLIT_FRACTIONS["validation"])
            items = {"train": items[:cut_train], "validation": items[cut_train:cut_val], "test": items[cut_val:]}[split]
        return items[:n] if n is not None else items

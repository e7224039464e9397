"""Synthetic items for benchmarks that need thousands of them: seeded, offline, any family.

The sim models decide correctness from the item's id and gold (the answer key), not from the
question text, so a synthetic item is as good a probe of the sim as a real one; the questions
are still well-formed so that the runtime and parsers see ordinary text.
"""
from __future__ import annotations

import random

from rolegraph.items import Family, Item
from rolegraph.tasks.base import Task
from rolegraph.tasks.scoring import math_score

MAX_OPERAND = 999
LETTERS = "ABCD"


def _math_item(i: int, rng: random.Random, prefix: str) -> Item:
    a, b, c = (rng.randint(2, MAX_OPERAND) for _ in range(3))
    return Item(id=f"{prefix}/{i}", question=f"Compute {a} * {b} - {c}.", gold=str(a * b - c), family="math")


def _mmlu_item(i: int, rng: random.Random, prefix: str) -> Item:
    gold = LETTERS[rng.randrange(len(LETTERS))]
    choices = [f"option {j + 1} of question {i}" for j in range(len(LETTERS))]
    return Item(id=f"{prefix}/{i}", question=f"Which option is right for question {i}?", gold=gold,
                family="mmlu", choices=choices)


def _code_item(i: int, rng: random.Random, prefix: str) -> Item:
    k = rng.randint(1, MAX_OPERAND)
    return Item(id=f"{prefix}/{i}", question=f"Write f(x) returning x + {k}.",
                gold=f"def f(x):\n    return x + {k}\n", family="code")


def synthetic_items(family: Family, n: int, seed: int = 0) -> list[Item]:
    """`n` seeded items of `family` (math, mmlu or code); ids are stable for a (family, seed)."""
    rng = random.Random(f"synthetic:{family}:{seed}")
    make = {"math": _math_item, "mmlu": _mmlu_item, "code": _code_item}[family]
    return [make(i, rng, f"synth-{family}-{seed}") for i in range(n)]


def exact_score(prediction: str | None, item: Item) -> float:
    """Family-aware exact scoring for synthetic items (no sandbox: code is compared as text)."""
    if prediction is None or item.gold is None:
        return 0.0
    if item.family == "math":
        p = prediction.strip()
        if p.lstrip("-").isdigit() and item.gold.lstrip("-").isdigit():  # the usual case, exactly
            return float(int(p) == int(item.gold))
        return math_score(prediction, item.gold)
    if item.family == "mmlu":
        return float(prediction.strip().upper()[:1] == item.gold)
    return float(" ".join(prediction.split()) == " ".join(item.gold.split()))


class SyntheticTask(Task):
    """A `Task` over `synthetic_items`: what the optimizer benchmarks search on (family math by default)."""

    answer_kind = "math"

    def __init__(self, family: Family = "math", n: int = 2000, seed: int = 0):
        self.family = family
        self.answer_kind = family
        self.name = f"synthetic-{family}"
        self._items = synthetic_items(family, n, seed)

    def all_items(self) -> list[Item]:
        return list(self._items)

    def score(self, prediction: str | None, item: Item) -> float:
        return exact_score(prediction, item)

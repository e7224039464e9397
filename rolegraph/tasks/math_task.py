"""`math`: competition math from a MATH / MATH-500 JSONL file {problem, solution, answer?, subject, level}.

The gold is the `answer` field when present (MATH-500 / PRM800K), else the last \\boxed{} of the
solution (the original Hendrycks records, which also call the subject `type`).
Scoring uses `math_equal`, which treats \\frac{1}{2}, 1/2 and 0.5 as the same answer.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rolegraph.answers import last_boxed
from rolegraph.items import Item
from rolegraph.tasks.files import field_str, optional_str, read_jsonl, require_file
from rolegraph.tasks.loaded import LoadedTask
from rolegraph.tasks.scoring import math_score

MATH_FORMAT = "JSONL {problem, solution, answer?, subject, level}"


def math_gold(record: dict[str, Any]) -> str | None:
    """The `answer` field, else the last \\boxed{} of the solution, else None."""
    answer = optional_str(record, "answer")
    if answer is not None:
        return answer
    solution = optional_str(record, "solution")
    return last_boxed(solution) or None if solution else None


def _level(value: Any) -> int | None:
    """5 from 5, '5' or 'Level 5'; None when absent or unparseable ('Level ?')."""
    match = re.search(r"\d+", str(value)) if value is not None else None
    return int(match.group()) if match else None


class MathTask(LoadedTask):
    name = "math"
    data_format = MATH_FORMAT
    family = "math"
    answer_kind = "math"

    def __init__(self, path: Path):
        self.path = path
        self._set_items(self._load())

    def _load(self) -> list[Item]:
        items = []
        for index, (lineno, record) in enumerate(read_jsonl(self.path, MATH_FORMAT)):
            problem = field_str(record, "problem", f"{self.path}:{lineno}", MATH_FORMAT)
            item_id = optional_str(record, "unique_id") or f"math/{index}"
            subject = optional_str(record, "subject") or optional_str(record, "type")
            items.append(
                Item(
                    id=item_id,
                    question=problem.strip(),
                    gold=math_gold(record),
                    family="math",
                    metadata={"line": lineno, "subject": subject, "level": _level(record.get("level"))},
                )
            )
        return items

    def score(self, prediction: str | None, item: Item) -> float:
        return math_score(prediction, item.gold)


def make_math(data: str | Path | None = None, seed: int = 0) -> MathTask:
    return MathTask(require_file(data, "math", MATH_FORMAT))

"""`gsm8k`: grade-school math from a JSONL file in the original format {question, answer}.

The answer field is the worked solution; the gold is the text after its last `####`, commas
removed. The solution's calculator annotations `<<48/2=24>>` give intermediate results, which
serve as plausible wrong answers for the simulated pool.
"""

from __future__ import annotations

import re
from pathlib import Path

from rolegraph.items import Item
from rolegraph.tasks.files import field_str, optional_str, read_jsonl, require_file
from rolegraph.tasks.loaded import LoadedTask
from rolegraph.tasks.math_norm import to_fraction
from rolegraph.tasks.scoring import math_score

GSM8K_FORMAT = "JSONL {question, answer} (gold after '####')"
GOLD_MARKER = "####"
MAX_DISTRACTORS = 4
_CALC_RE = re.compile(r"<<[^<>=]*=([^<>]+)>>")


def gsm8k_gold(solution: str | None) -> str | None:
    """'... #### 1,234' -> '1234'; None when the marker or a value after it is missing."""
    if not solution or GOLD_MARKER not in solution:
        return None
    gold = solution.rsplit(GOLD_MARKER, 1)[1].strip().replace(",", "")
    return gold or None


def intermediate_results(solution: str, gold: str) -> list[str]:
    """Distinct calculator results in the solution, other than the gold, in order of appearance."""
    gold_value = to_fraction(gold)
    out: list[str] = []
    for raw in _CALC_RE.findall(solution):
        value = raw.strip().replace(",", "")
        number = to_fraction(value)
        if number is None or number == gold_value or value in out:
            continue
        out.append(value)
        if len(out) == MAX_DISTRACTORS:
            break
    return out


class Gsm8kTask(LoadedTask):
    name = "gsm8k"
    data_format = GSM8K_FORMAT
    family = "math"
    answer_kind = "math"

    def __init__(self, path: Path):
        self.path = path
        self._set_items(self._load())

    def _load(self) -> list[Item]:
        items = []
        for index, (lineno, record) in enumerate(read_jsonl(self.path, GSM8K_FORMAT)):
            question = field_str(record, "question", f"{self.path}:{lineno}", GSM8K_FORMAT)
            solution = optional_str(record, "answer")
            gold = gsm8k_gold(solution)
            distractors = intermediate_results(solution or "", gold) if gold else []
            items.append(
                Item(
                    id=f"gsm8k/{index}",
                    question=question.strip(),
                    gold=gold,
                    family="math",
                    metadata={"line": lineno, "distractors": distractors},
                )
            )
        return items

    def score(self, prediction: str | None, item: Item) -> float:
        return math_score(prediction, item.gold)


def make_gsm8k(data: str | Path | None = None, seed: int = 0) -> Gsm8kTask:
    return Gsm8kTask(require_file(data, "gsm8k", GSM8K_FORMAT))

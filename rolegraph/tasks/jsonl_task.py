"""`jsonl`: any JSONL file of question/answer records, pointed at by field names.

    get_task("jsonl", data="mine.jsonl", question_field="prompt", answer_field="target", family="qa")

The family picks the scorer: math -> `math_equal`, qa -> exact match (or `metric="f1"`),
mmlu -> the chosen letter (give `choices_field` to show lettered choices). Code needs tests to
score, so it is not offered here: write a small Task class instead (see `rolegraph.tasks.registry`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from rolegraph.errors import DataFileError, TaskError
from rolegraph.items import Family, Item
from rolegraph.tasks.files import field_str, optional_str, read_jsonl, require_file
from rolegraph.tasks.loaded import LoadedTask
from rolegraph.tasks.mmlu import LETTERS, format_question, gold_letter, prediction_letter
from rolegraph.tasks.options import choice_option
from rolegraph.tasks.qa_metrics import exact_match, f1_score
from rolegraph.tasks.scoring import math_score

JSONL_FAMILIES = ("math", "qa", "mmlu")
QA_METRICS = ("em", "f1")


class JsonlTask(LoadedTask):
    """Items from named fields of a JSONL file; the scorer follows the family."""

    name = "jsonl"

    def __init__(
        self,
        path: Path,
        *,
        question_field: str = "question",
        answer_field: str = "answer",
        family: Family = "math",
        id_field: str | None = None,
        choices_field: str | None = None,
        metric: str = "em",
    ):
        self.path = path
        self.family = family
        self.answer_kind = family
        self.metric = metric
        self.question_field, self.answer_field = question_field, answer_field
        self.fields = {"question": question_field, "answer": answer_field, "id": id_field, "choices": choices_field}
        self.format = f"JSONL {{{question_field}, {answer_field}}}"
        self.data_format = self.format
        self._set_items(self._load())

    def _choices(self, record: dict[str, Any], where: str) -> list[str] | None:
        field = self.fields["choices"]
        if field is None:
            return None
        value = record.get(field)
        if not isinstance(value, list) or len(value) != len(LETTERS):
            raise DataFileError(
                f"{where}: field '{field}' should be a list of {len(LETTERS)} choices; expected {self.format}"
            )
        return [str(choice) for choice in value]

    def _load(self) -> list[Item]:
        items = []
        first: dict[str, Any] | None = None
        ids_found = False
        for index, (lineno, record) in enumerate(read_jsonl(self.path, self.format)):
            first = record if first is None else first
            where = f"{self.path}:{lineno}"
            question = field_str(record, self.question_field, where, self.format).strip()
            gold = optional_str(record, self.answer_field, where, self.format)
            choices = self._choices(record, where)
            if self.family == "mmlu":
                gold = gold_letter(record.get(self.answer_field))
                question = format_question(question, choices) if choices else question
            item_id = optional_str(record, self.fields["id"], where, self.format) if self.fields["id"] else None
            ids_found = ids_found or item_id is not None
            extra = {k: v for k, v in record.items() if k not in self.fields.values() and _is_scalar(v)}
            items.append(
                Item(
                    id=item_id or f"jsonl/{index}",
                    question=question,
                    gold=gold,
                    family=self.family,
                    choices=choices,
                    metadata={"line": lineno, **extra},
                )
            )
        if first is not None and self.fields["id"] and not ids_found:
            raise DataFileError(self._no_ids(first))
        return items

    def _no_ids(self, first: dict[str, Any]) -> str:
        """A named id field that no record has is a misspelling, refused like a missing answer field: ids
        falling back to jsonl/0, jsonl/1... would pair the wrong records across files and runs."""
        return (
            f"{self.path}: no record has the id field '{self.fields['id']}' (option id_field); "
            f"the first record's fields are {', '.join(map(repr, first)) or 'none'}"
        )

    def score(self, prediction: str | None, item: Item) -> float:
        if prediction is None or item.gold is None:
            return 0.0
        if self.family == "math":
            return math_score(prediction, item.gold)
        if self.family == "mmlu":
            return float(prediction_letter(prediction, item.choices) == item.gold)
        return f1_score(prediction, item.gold) if self.metric == "f1" else exact_match(prediction, item.gold)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) or value is None


def make_jsonl(
    data: str | Path | None = None,
    seed: int = 0,
    question_field: str = "question",
    answer_field: str = "answer",
    family: str = "math",
    id_field: str | None = None,
    choices_field: str | None = None,
    metric: str = "em",
) -> JsonlTask:
    chosen = cast(Family, choice_option(family, "family", "jsonl", JSONL_FAMILIES))
    scorer = choice_option(metric, "metric", "jsonl", QA_METRICS)
    # an option the family does not use would be dropped without a word (metric=f1 scored with math_equal)
    if scorer != "em" and chosen != "qa":
        raise TaskError(f"task 'jsonl': option metric={metric!r} applies to family qa only, not family {chosen}")
    if choices_field is not None and chosen != "mmlu":
        raise TaskError(
            f"task 'jsonl': option choices_field={choices_field!r} applies to family mmlu only, not family {chosen}"
        )
    fmt = f"JSONL {{{question_field}, {answer_field}}}"
    return JsonlTask(
        require_file(data, "jsonl", fmt),
        question_field=question_field,
        answer_field=answer_field,
        family=chosen,
        id_field=id_field,
        choices_field=choices_field,
        metric=scorer,
    )

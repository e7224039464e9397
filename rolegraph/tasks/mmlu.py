"""`mmlu`: four-way multiple choice from JSONL {subject, question, choices[4], answer} or the original CSVs.

The original Hendrycks layout is headerless CSV rows `question, A, B, C, D, answer`, one file per
subject named `<subject>_<split>.csv`; `--data` may name one such file or a directory of them.
A directory holding a `test/` folder is taken as the original `data/` layout (dev/, val/, test/,
auxiliary_train/) and only `test/` is read: dev/ holds the few-shot examples, val/ and
auxiliary_train/ other splits, and mixing them would evaluate one blend of splits whose ids
collide (`mmlu/abstract_algebra/0#2`). Any other directory is read whole, recursively.
The question shown to a model lists the lettered choices; the gold is the letter.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from rolegraph.answers import choice_letter
from rolegraph.errors import DataFileError
from rolegraph.items import Item
from rolegraph.tasks.files import TEXT_ENCODING, field_str, optional_str, read_jsonl, require_file
from rolegraph.tasks.loaded import LoadedTask

LETTERS = ("A", "B", "C", "D")
MMLU_FORMAT = (
    "MMLU JSONL {subject, question, choices[4], answer: A-D} or headerless CSV rows (question, A, B, C, D, answer)"
)
CSV_COLUMNS = 1 + len(LETTERS) + 1
TEST_DIR = "test"
"""The split read from a directory in the original layout (see the module docstring)."""
_SPLIT_SUFFIX_RE = re.compile(r"_(test|dev|val|validation|train|auxiliary_train)$")
_LONE_LETTER_RE = re.compile(r"^\(?([A-D])\)?(?:[.:)]\s|[.:)]?$)")


def format_question(question: str, choices: list[str]) -> str:
    """The question followed by 'A. ...' to 'D. ...' lines."""
    lines = [f"{letter}. {choice}" for letter, choice in zip(LETTERS, choices)]
    return question.strip() + "\n\n" + "\n".join(lines)


def gold_letter(value: Any) -> str | None:
    """'B', 'b', ' B ' or the index 1 -> 'B'; anything else -> None (no usable gold)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return LETTERS[value] if 0 <= value < len(LETTERS) else None
    text = str(value).strip().upper() if value is not None else ""
    return text if text in LETTERS else None


def prediction_letter(prediction: str, choices: list[str] | None) -> str | None:
    """The letter a prediction names: 'B', '(B)', 'B. text', 'answer: B', or a choice's exact text."""
    text = prediction.strip()
    lone = _LONE_LETTER_RE.match(text if len(text) > 1 else text.upper())
    if lone:
        return lone.group(1).upper()
    found = choice_letter(text)
    if found:
        return found
    if choices:
        lowered = text.lower().rstrip(".")
        for letter, choice in zip(LETTERS, choices):
            if lowered == choice.strip().lower().rstrip("."):
                return letter
    return None


def _subject_of(path: Path) -> str:
    return _SPLIT_SUFFIX_RE.sub("", path.stem)


def csv_files(directory: Path) -> list[Path]:
    """The CSVs to read from `directory`: those under test/ in the original layout, else all of them."""
    test_dir = directory / TEST_DIR
    root = test_dir if test_dir.is_dir() else directory
    files = sorted(root.rglob("*.csv"))
    if not files:
        raise DataFileError(f"{root}: no .csv files in this directory; expected {MMLU_FORMAT}")
    return files


class MMLUTask(LoadedTask):
    name = "mmlu"
    family = "mmlu"
    answer_kind = "mmlu"
    data_format = MMLU_FORMAT

    def __init__(self, path: Path):
        self.path = path
        self._set_items(self._load())

    def _load(self) -> list[Item]:
        if self.path.is_dir():
            return [item for file in csv_files(self.path) for item in self._load_csv(file)]
        if self.path.suffix.lower() == ".csv":
            return self._load_csv(self.path)
        return self._load_jsonl()

    def _item(
        self, item_id: str, subject: str | None, question: str, choices: list[str], answer: Any, where: str
    ) -> Item:
        return Item(
            id=item_id,
            question=format_question(question, choices),
            gold=gold_letter(answer),
            family="mmlu",
            choices=choices,
            metadata={"subject": subject, "where": where, "question_text": question.strip()},
        )

    def _load_jsonl(self) -> list[Item]:
        items = []
        for index, (lineno, record) in enumerate(read_jsonl(self.path, MMLU_FORMAT)):
            where = f"{self.path}:{lineno}"
            question = field_str(record, "question", where, MMLU_FORMAT)
            choices = record.get("choices")
            if (
                not isinstance(choices, list)
                or len(choices) != len(LETTERS)
                or not all(isinstance(c, (str, int, float)) for c in choices)
            ):
                raise DataFileError(
                    f"{where}: 'choices' should be a list of {len(LETTERS)} texts; expected {MMLU_FORMAT}"
                )
            subject = optional_str(record, "subject", where, MMLU_FORMAT)
            items.append(
                self._item(
                    f"mmlu/{subject or 'unknown'}/{index}",
                    subject,
                    question,
                    [str(c) for c in choices],
                    record.get("answer"),
                    where,
                )
            )
        return items

    def _load_csv(self, path: Path) -> list[Item]:
        subject = _subject_of(path)
        items = []
        try:
            with path.open(encoding=TEXT_ENCODING, newline="") as handle:
                reader = csv.reader(handle)
                index = 0
                for row in reader:
                    if not any(cell.strip() for cell in row):
                        continue
                    where = f"{path}:{reader.line_num}"
                    if len(row) != CSV_COLUMNS:
                        raise DataFileError(
                            f"{where}: {len(row)} columns, expected {CSV_COLUMNS} "
                            "(question, A, B, C, D, answer) in a headerless MMLU CSV"
                        )
                    if not row[0].strip():  # as the JSONL loaders refuse a blank question (tasks.files.field_str)
                        raise DataFileError(f"{where}: the question (first column) is empty; expected {MMLU_FORMAT}")
                    items.append(self._item(f"mmlu/{subject}/{index}", subject, row[0], row[1:5], row[5], where))
                    index += 1
        except UnicodeDecodeError as exc:
            raise DataFileError(f"{path}: not UTF-8 text; expected {MMLU_FORMAT}") from exc
        except csv.Error as exc:
            raise DataFileError(f"{path}: malformed CSV ({exc}); expected {MMLU_FORMAT}") from exc
        return items

    def score(self, prediction: str | None, item: Item) -> float:
        if prediction is None or item.gold is None:
            return 0.0
        return float(prediction_letter(prediction, item.choices) == item.gold)


def make_mmlu(data: str | Path | None = None, seed: int = 0) -> MMLUTask:
    return MMLUTask(require_file(data, "mmlu", MMLU_FORMAT, allow_dir=True))

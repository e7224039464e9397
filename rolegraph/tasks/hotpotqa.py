"""`hotpotqa`: multi-hop QA from the distractor-setting JSON (a list of records; JSONL also read).

Each record: {_id, question, answer, supporting_facts, context: [[title, [sentences]]], type, level}.
The context paragraphs of all loaded items form the task's search corpus, so a searcher node
retrieves the evidence (and the distractor paragraphs) instead of the web. Scored by exact match
by default, or token F1 (`metric="f1"`), with the standard answer normalisation.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

from rolegraph.errors import DataFileError
from rolegraph.items import Item
from rolegraph.tasks.files import field_str, optional_str, read_json, read_jsonl, require_file
from rolegraph.tasks.loaded import LoadedTask
from rolegraph.tasks.options import choice_option
from rolegraph.tasks.qa_metrics import exact_match, f1_score, normalize_answer

HOTPOT_FORMAT = "HotpotQA JSON [{_id, question, answer, supporting_facts, context: [[title, [sentences]]]}]"
METRICS = ("em", "f1")
MAX_DISTRACTORS = 4
_OPPOSITE = {"yes": "no", "no": "yes"}


def _paragraphs(record: dict[str, Any], where: str) -> list[tuple[str, str]]:
    """(title, text) per context paragraph; a context of another shape is a malformed record."""
    context = record.get("context")
    expected = f"'context' should be [[title, [sentences]], ...]; expected {HOTPOT_FORMAT}"
    if not isinstance(context, list):
        raise DataFileError(f"{where}: {expected}")
    out = []
    for entry in context:
        if (
            not isinstance(entry, (list, tuple))
            or len(entry) != 2
            or not isinstance(entry[0], str)
            or not isinstance(entry[1], list)
            or not all(isinstance(s, str) for s in entry[1])
        ):
            raise DataFileError(f"{where}: {expected}")
        out.append((entry[0], "".join(entry[1]).strip()))
    return out


def hotpot_distractors(gold: str, titles: list[str]) -> list[str]:
    """yes <-> no for comparison questions, else other context titles (entities a solver may confuse)."""
    normal = normalize_answer(gold)
    if normal in _OPPOSITE:
        return [_OPPOSITE[normal]]
    others = [t for t in dict.fromkeys(titles) if normalize_answer(t) != normal]
    return others[:MAX_DISTRACTORS]


class HotpotQATask(LoadedTask):
    name = "hotpotqa"
    family = "qa"
    answer_kind = "qa"
    data_format = HOTPOT_FORMAT

    def __init__(self, path: Path, *, metric: str = "em"):
        self.path = path
        self.metric = metric
        self._documents: dict[str, str] = {}
        self._set_items(self._load())

    def _records(self) -> list[tuple[str, Any]]:
        with self.path.open("rb") as handle:
            head = handle.read(4096).removeprefix(codecs.BOM_UTF8).lstrip()  # files.read_* skip a BOM too
        if head.startswith(b"["):
            data = read_json(self.path, HOTPOT_FORMAT)
            return [(f"{self.path}: record {i}", r) for i, r in enumerate(data)]
        if head.startswith(b"{"):
            return [(f"{self.path}:{n}", r) for n, r in read_jsonl(self.path, HOTPOT_FORMAT)]
        raise DataFileError(f"{self.path}:1: expected {HOTPOT_FORMAT} (a JSON list or JSONL)")

    def _load(self) -> list[Item]:
        items = []
        for index, (where, record) in enumerate(self._records()):
            if not isinstance(record, dict):
                raise DataFileError(
                    f"{where}: expected a JSON object, got {type(record).__name__}; expected {HOTPOT_FORMAT}"
                )
            question = field_str(record, "question", where, HOTPOT_FORMAT)
            paragraphs = _paragraphs(record, where)
            for title, text in paragraphs:
                self._documents.setdefault(title, text)
            titles = [title for title, _ in paragraphs]
            gold = optional_str(record, "answer", where, HOTPOT_FORMAT)
            supporting = record.get("supporting_facts") or []
            items.append(
                Item(
                    id=optional_str(record, "_id", where, HOTPOT_FORMAT) or f"hotpotqa/{index}",
                    question=question.strip(),
                    gold=gold,
                    family="qa",
                    metadata={
                        "where": where,
                        "type": record.get("type"),
                        "level": record.get("level"),
                        "titles": titles,
                        "supporting_titles": list(
                            dict.fromkeys(f[0] for f in supporting if isinstance(f, (list, tuple)) and f)
                        ),
                        "distractors": hotpot_distractors(gold, titles) if gold else [],
                    },
                )
            )
        return items

    def corpus(self) -> list[dict]:
        """One document per distinct context title across the loaded items."""
        return [{"title": title, "text": text} for title, text in self._documents.items()]

    def score(self, prediction: str | None, item: Item) -> float:
        if prediction is None or item.gold is None:
            return 0.0
        return f1_score(prediction, item.gold) if self.metric == "f1" else exact_match(prediction, item.gold)


def make_hotpotqa(data: str | Path | None = None, seed: int = 0, metric: object = "em") -> HotpotQATask:
    return HotpotQATask(
        require_file(data, "hotpotqa", HOTPOT_FORMAT), metric=choice_option(metric, "metric", "hotpotqa", METRICS)
    )

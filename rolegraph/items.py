"""The unit of work every layer shares: one task item, and the answer key a simulated model reads."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Family = Literal["math", "mmlu", "code", "qa"]


class AnswerKey(BaseModel):
    """What a simulated model is told beside the messages (never inside a real model's prompt).

    The sim uses it to decide correctness and to write real-looking answers; `difficulty_seed`
    is the item's stable identity for its seeded difficulty.
    """

    item_id: str
    gold: str
    family: Family = "math"
    choices: list[str] | None = None
    distractors: list[str] = Field(default_factory=list)


class Item(BaseModel):
    """One task item. `gold` is None when the source has no usable answer (such items are skipped)."""

    id: str
    question: str
    gold: str | None = None
    family: Family = "math"
    choices: list[str] | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    def answer_key(self) -> AnswerKey | None:
        if self.gold is None:
            return None
        distractors = [str(d) for d in self.metadata.get("distractors", [])]
        return AnswerKey(
            item_id=self.id, gold=self.gold, family=self.family, choices=self.choices, distractors=distractors
        )

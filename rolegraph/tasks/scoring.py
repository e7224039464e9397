"""Scorers shared by the math-family tasks: exact equivalence after normalisation, 1.0 or 0.0."""

from __future__ import annotations

from rolegraph.answers import extract_answer
from rolegraph.tasks.math_norm import math_equal

_FREE_TEXT_MARKERS = ("\n", "final answer", "\\boxed", "answer is")


def math_score(prediction: str | None, gold: str | None) -> float:
    """1.0 when the prediction denotes the gold answer.

    A prediction is normally an already extracted answer; if it is still free text (several
    lines, a 'Final answer:' marker, a \\boxed{}) the answer is extracted from it first.
    """
    if prediction is None or gold is None:
        return 0.0
    if math_equal(prediction, gold):
        return 1.0
    lowered = prediction.lower()
    if any(marker in lowered for marker in _FREE_TEXT_MARKERS):
        extracted = extract_answer(prediction, "math")
        if extracted is not None and extracted != prediction:
            return float(math_equal(extracted, gold))
    return 0.0

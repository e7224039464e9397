"""Which figure is which: the accuracies a search reports and how far a reader can trust each one.

A search shows three kinds of figures, and mixing them up is how a report misleads:

- raw accuracies on the items actually run (training batches, validation slices, test items), each
  with its 95% Wilson interval: what a reader can check against the trace;
- ranking scores (batch-difficulty-adjusted, shrunk toward the search's mean, lowered by standard
  errors): tools for choosing, not accuracies of anything;
- the held-out test accuracy of the chosen graph: the one estimate of how well it does on new items.

Training and validation figures of the chosen graph are selection figures: the graph was chosen
because they were high, so they are optimistic (the winner's curse); the test items played no part
in the choice, so its test accuracy is unbiased (`python -m benchmarks estimates` checks this).
"""

from __future__ import annotations

from collections.abc import Sequence

from rolegraph.optimize.final import SELECTION_NOTE, FinalChoice

__all__ = ["SELECTION_NOTE", "candidate_rows", "confidence_text", "rechecked_count", "selection_row", "selection_text"]
CANDIDATE_HEADERS = (
    "graph",
    "training accuracy (raw)",
    "95% CI",
    "training items",
    "validation accuracy (raw)",
    "95% CI",
    "validation items",
    "ranking score (training; adjusted, shrunk, -2 SE)",
    "validation (slice-adjusted)",
    "choice score (pooled; adjusted, shrunk, -2 SE)",
    "P(best of the candidates)",
)
CANDIDATE_NUMERIC = frozenset(range(1, len(CANDIDATE_HEADERS)))
CLEAR_P = 0.9
"""P(best) at or above which the choice is called clear."""
LIKELY_P = 0.5
"""P(best) below which the choice is called a near-tie: some other candidate more likely than not is better."""


def ci_text(ci: Sequence[float] | None) -> str:
    return "-" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def selection_row(final: FinalChoice, graph_hash: str | None = None) -> dict | None:
    """The candidate row of `graph_hash` (default: the chosen graph), if it was a candidate."""
    want = graph_hash or final.chosen_hash
    return next((c for c in final.candidates if c["hash"] == want), None)


def selection_text(row: dict, prefix: str = "chosen on:         ") -> str:
    """One line: the chosen graph's raw training and validation accuracies, labelled as selection figures."""
    parts = []
    if row.get("train_accuracy_raw") is not None:
        parts.append(f"training {row['train_accuracy_raw']:.3f} {ci_text(row['train_ci95'])} n={row['train_items']}")
    if row.get("validation_accuracy_raw") is not None:
        parts.append(
            f"validation {row['validation_accuracy_raw']:.3f} {ci_text(row['validation_ci95'])} "
            f"n={row['validation_items']}"
        )
    if not parts:
        return ""
    return (
        prefix + "; ".join(parts) + "  (raw accuracies of the items the choice was made on: "
        "optimistic; the test accuracy is held out)"
    )


def rechecked_count(candidates: Sequence[dict]) -> int:
    """How many candidates the final re-check actually scored on validation items: the reserve goes, a round at a
    time, to the leader and its closest rival, so a candidate clearly behind may get none."""
    return sum(1 for c in candidates if c.get("validation_items"))


def confidence_text(row: dict, prefix: str = "how sure:          ", candidates: Sequence[dict] | None = None) -> str:
    """One line: the chosen graph's chance of being the best of the top candidates, and what it means.

    The chance is over every top candidate (pooled training and validation items), but a candidate the re-check
    gave no validation item was compared on training items only, so with `candidates` (`FinalChoice.candidates`)
    the line counts the re-checked ones apart instead of calling all of them re-checked."""
    p, of = row.get("p_best"), row.get("p_best_of")
    if p is None or not of or of < 2:
        return ""
    rechecked = rechecked_count(candidates) if candidates is not None else None
    if rechecked is None:
        among = f"the {of} top candidates"
    elif rechecked >= of:
        among = f"the {of} re-checked candidates"
    else:
        among = f"the {of} top candidates, {rechecked} of them re-checked on validation items"
    if p >= CLEAR_P:
        verdict = "a clear choice"
    elif p >= LIKELY_P:
        verdict = "likely the best of them, not certain"
    else:
        verdict = "a near-tie: another candidate may well be better; more evaluations would tell"
    return f"{prefix}P(best of {among}) {p:.2f}, {verdict}"


def candidate_rows(final: FinalChoice) -> list[list[str]]:
    """The re-checked candidates as table rows under CANDIDATE_HEADERS (older runs: '-' for raw figures)."""
    rows = []
    for c in final.candidates:
        mark = " (chosen)" if c["hash"] == final.chosen_hash else ""
        rows.append(
            [
                c["hash"][:10] + mark,
                _num(c.get("train_accuracy_raw")),
                ci_text(c.get("train_ci95")),
                str(c.get("train_items", "-")),
                _num(c.get("validation_accuracy_raw")),
                ci_text(c.get("validation_ci95")),
                str(c.get("validation_items", "-")),
                _num(c.get("train_objective")),
                _num(c.get("validation_objective")),
                _num(c.get("combined_objective")),
                _num(c.get("p_best")),
            ]
        )
    return rows

"""report.md says which figure is which: raw accuracies with intervals, ranking scores labelled."""
from __future__ import annotations

from tests.optimize.helpers import run, tiny_config

from rolegraph.reports import render


def test_the_report_shows_raw_accuracies_beside_labelled_scores(pool, small_task, tmp_path):
    result = run(pool, tmp_path / "home", small_task, "agent-reinforce", config=tiny_config(iterations=2),
                 out=tmp_path / "run")
    text = render(tmp_path / "run").read_text()
    row = next(c for c in result.candidates if c["hash"] == result.best_hash)
    line = next(ln for ln in text.splitlines() if ln.startswith(f"| {result.best_hash[:10]} (chosen)"))
    lo, hi = row["train_ci95"]
    assert f"| {row['train_accuracy_raw']:.3f} | [{lo:.3f}, {hi:.3f}] | {row['train_items']} |" in line
    assert f"| {row['combined_objective']:.3f} |" in line
    assert "training accuracy (raw)" in text and "ranking score (training; adjusted, shrunk" in text
    assert "held-out test items" in text and "Selection figures of the chosen graph: training" in text
    assert "accuracy (batch-adjusted)" in text  # the Pareto table's adjusted figure is labelled

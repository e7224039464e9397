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


def test_the_pareto_table_interval_is_wilsons_for_the_raw_accuracy_over_its_items():
    """5 right of 10: Wilson's 95% interval by hand, z^2 = 3.8416: centre (0.5 + 0.19208) / 1.38416 = 0.5,
    half 1.96 * sqrt(0.025 + 0.009604) / 1.38416 = 0.2634, so [0.237, 0.763] (not the interval of 0.5 of 10)."""
    from rolegraph.reports.markdown import _raw_ci

    assert _raw_ci(0.5, 10) == "[0.237, 0.763]"
    assert _raw_ci(None, 10) == "-"

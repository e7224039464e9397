"""The options of `route fit`, checked before any work: a bad one costs nothing, and a large --max-stages
would cost minutes and gigabytes before failing."""

from __future__ import annotations

import math

from rolegraph.errors import SearchError

DEFAULT_TOLERANCE = 0.01
"""The default target's accuracy drop from the best graph's fit accuracy (here, not in route_fit: `--help` shows it
without loading the fit's numpy)."""
STAGES_LIMIT = 3
"""Most stages `check_options` allows. Every chain is scored, so a stage more multiplies time and memory by about
(candidates - k) / (k + 1) x the rule grid (~15 rules). Measured on a 17-candidate w0-math run: 2 stages 1.9 s
and 0.2 GB, 3 stages 8 s and 1 GB, 4 stages past 12 GB after a minute (a user's took 3 minutes)."""


def check_options(target_flops: float | None, target_accuracy: float | None, tolerance: float, max_stages: int) -> None:
    """The fit's options, checked before any work (`route fit` calls this before scoring an unpaired front)."""
    if target_flops is not None and target_accuracy is not None:
        raise SearchError("give --target-flops or --target-accuracy, not both")
    if target_flops is not None and not 0 < target_flops < math.inf:  # nan too: it compares false with both
        raise SearchError(f"--target-flops must be positive and finite, got {target_flops:g}")
    if not 0.0 <= tolerance <= 1.0:  # a negative one asks for more than the best graph: no cascade can reach it
        raise SearchError(f"--tolerance is an accuracy drop in [0, 1], got {tolerance:g}")
    if not 1 <= max_stages <= STAGES_LIMIT:
        raise SearchError(
            f"--max-stages must be 1 to {STAGES_LIMIT}, got {max_stages}: every chain is scored, and each further "
            "stage multiplies the time and memory by tens"
        )


def check_tolerance(target_flops: float | None, target_accuracy: float | None, tolerance: float | None) -> float:
    """The tolerance to fit with (`DEFAULT_TOLERANCE` when not given: None). It only sets the default target, so
    one given with a target of its own would be silently ignored: refused instead, in one line."""
    for flag, target in (("--target-flops", target_flops), ("--target-accuracy", target_accuracy)):
        if target is not None and tolerance is not None:
            raise SearchError(
                f"give {flag} or --tolerance, not both: --tolerance sets the default target (the best graph's fit "
                f"accuracy minus it), which {flag} replaces"
            )
    return DEFAULT_TOLERANCE if tolerance is None else tolerance

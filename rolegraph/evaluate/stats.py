"""Statistics for comparing graphs on few items: Wilson intervals, McNemar, a paired bootstrap, p95.

Evaluations are small (tens to hundreds of items), so intervals and tests must stay honest at
small n: Wilson instead of the normal approximation, McNemar's exact binomial form, and a
paired bootstrap that uses the fact that both graphs saw the same items.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Z95 = 1.96
DEFAULT_BOOTSTRAP = 2000
EXACT_MCNEMAR_MAX = 5000
"""Up to this many discordant pairs McNemar's p is the exact binomial; above, the chi-square form."""
CORRECT_THRESHOLD = 0.5
BOOTSTRAP_CI_QUANTILES = (0.025, 0.975)
"""The paired bootstrap's 95% interval: 2.5% of the resampled means cut from each tail."""
"""A score at or above this counts as right in McNemar's 2x2 table (partial credit, e.g. F1)."""
P95 = 0.95


def wilson_interval(k: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes out of n (k may be fractional: mean score * n).

    With no items nothing is known, so the interval is the whole of [0, 1].
    """
    if n <= 0:
        return (0.0, 1.0)
    p = min(max(k / n, 0.0), 1.0)
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def _binom_two_sided(k: int, n: int) -> float:
    """Exact two-sided p of k or fewer (or as extreme above) in n fair coin flips."""
    term = total = 1  # C(n, 0); each next binomial coefficient from the last, in exact integers
    for i in range(1, k + 1):
        term = term * (n - i + 1) // i
        total += term
    return min(1.0, 2.0 * (total / (1 << n)))


def mcnemar(a_scores: Sequence[float], b_scores: Sequence[float]) -> tuple[int, int, float]:
    """(b01, b10, p): b01 = items A got wrong and B right, b10 = A right and B wrong.

    p is two-sided: exact binomial for up to EXACT_MCNEMAR_MAX discordant pairs, else the
    continuity-corrected chi-square. No discordant pairs gives p = 1.
    """
    if len(a_scores) != len(b_scores):
        raise ValueError(f"paired scores differ in length: {len(a_scores)} vs {len(b_scores)}")
    b01 = b10 = 0
    for a, b in zip(a_scores, b_scores):
        a_ok, b_ok = a >= CORRECT_THRESHOLD, b >= CORRECT_THRESHOLD
        if b_ok and not a_ok:
            b01 += 1
        elif a_ok and not b_ok:
            b10 += 1
    n = b01 + b10
    if n == 0:
        return b01, b10, 1.0
    if n <= EXACT_MCNEMAR_MAX:
        return b01, b10, _binom_two_sided(min(b01, b10), n)
    chi2 = (abs(b01 - b10) - 1) ** 2 / n
    return b01, b10, math.erfc(math.sqrt(chi2 / 2))


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], n_boot: int = DEFAULT_BOOTSTRAP, seed: int = 0
) -> tuple[float, float, float, float]:
    """(mean(b - a), 95% percentile interval, two-sided p) by resampling items with replacement.

    p is the share of bootstrap means at least as far from the observed mean as the observed
    mean is from zero (the null-shifted bootstrap), with the +1 correction so it is never 0.
    """
    if len(a) != len(b):
        raise ValueError(f"paired scores differ in length: {len(a)} vs {len(b)}")
    if not a:
        return (0.0, 0.0, 0.0, 1.0)
    diffs = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    observed = float(diffs.mean())
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(diffs), size=(n_boot, len(diffs)))
    means = diffs[idx].mean(axis=1)
    lo, hi = np.quantile(means, BOOTSTRAP_CI_QUANTILES)
    extreme = int(np.count_nonzero(np.abs(means - observed) >= abs(observed) - 1e-12))
    p = (extreme + 1) / (n_boot + 1)
    return observed, float(lo), float(hi), min(1.0, p)


def p95(values: Sequence[float]) -> float:
    """95th percentile, linearly interpolated between order statistics; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = P95 * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    frac = pos - low
    return ordered[low] + (ordered[high] - ordered[low]) * frac


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean; 0.0 for no values (an empty evaluation reports zeros, not NaN)."""
    return sum(values) / len(values) if values else 0.0

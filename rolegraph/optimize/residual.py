"""How noisy a comparison between two graphs really is, once they ran on the same items.

A graph's accuracy over n items has the binomial standard error sqrt(p(1-p)/n). Two graphs scored on
the same batch share most of that noise: an item one gets wrong the other often gets wrong too (in the
sim the per-item correlation of two good graphs is about 0.5; on real benchmarks hard items are hard for
every model). The search's scores are already adjusted for batch difficulty (`trace.batch_offsets`),
so what is left between them is the item-level disagreement, not the binomial variance.

`noise_scale` measures that from the search's own records: the residual variance of each record's
accuracy around its graph's effect plus its batch's offset, per item, as a share of the binomial
variance. Racing scales its standard errors by it, so it stops racing graphs the paired evidence has
already separated. Why not everywhere: the final choice and the loop's leader keep the binomial
figure, the conservative one, for every optimizer alike.
"""

from __future__ import annotations

import math

from rolegraph.optimize.trace import EVIDENCE_PHASES, OFFSET_MIN_DEGREES, EvalRecord, batch_offsets, pooled

MIN_DEGREES = OFFSET_MIN_DEGREES
"""Residual degrees of freedom below which the measured scale is too noisy to use (scale 1: binomial): the
same bar as the batch offsets' shrinkage, which measures the same residual noise."""
SCALE_FLOOR = 0.4
"""The smallest scale used: a scale fitted on few shared batches can come out near 0 by chance, and a
race that thinks its graphs are certain stops exploring."""


def noise_scale(records: list[EvalRecord]) -> float:
    """sqrt(residual per-item variance / mean binomial variance), within [SCALE_FLOOR, 1]; 1 when the
    records share too few batches to tell."""
    offsets = batch_offsets(records)
    if not offsets:
        return 1.0
    stats = pooled(records)
    shared = [
        r
        for r in records
        if r.phase in EVIDENCE_PHASES
        and r.phase != "validation"
        and r.n
        and r.items
        and tuple(sorted(r.items)) in offsets
    ]
    graphs = {r.graph_hash for r in shared}
    degrees = len(shared) - len(graphs) - len(offsets) + 1
    if degrees < MIN_DEGREES:
        return 1.0
    residual = 0.0
    binomial = 0.0
    for r in shared:
        effect = stats[r.graph_hash].accuracy
        residual += r.n * (r.accuracy - offsets[tuple(sorted(r.items))] - effect) ** 2
        binomial += r.n * effect * (1 - effect)
    if binomial <= 0:
        return 1.0
    per_item = residual / degrees  # weighted least squares: E[sum n r^2] = degrees x per-item variance
    mean_binomial = binomial / sum(r.n for r in shared)
    return min(1.0, max(SCALE_FLOOR, math.sqrt(per_item / mean_binomial)))

"""The final re-check: spend the reserve where it can change the choice (best-arm identification).

Why not the same items for every candidate: the top candidates arrive with very unequal evidence
(a leader scored on 300 training items, a rival on 32), and the gaps between the best graphs are a
few points, within the noise of 48 items. Scoring all of them on the same 48 lets a lucky rival's
48 items outvote the leader's 300. Instead the re-check runs in rounds (LUCB): each round gives a
slice of validation items to whichever of the leader (best lower bound) and its strongest rival
(best upper bound) is known less, until the rival's upper bound falls below the leader's lower
bound or the reserve (`top_candidates x validation_items` item runs) is spent.
"""

from __future__ import annotations

from rolegraph.optimize.context import SearchContext
from rolegraph.optimize.proposal import Proposal
from rolegraph.optimize.trace import SELECTION_Z, GraphStats, pooled, prior_accuracy, shrunk_se

ROUND_SHARE = 3
"""A round scores one candidate on `validation_items / ROUND_SHARE` items (16 of the default 48)."""
BOUND_Z = SELECTION_Z
"""Standard errors below (the leader's) and above (a rival's) the shrunk mean that bound it."""


def bounds(stats: GraphStats, prior: float, z: float = BOUND_Z) -> tuple[float, float, int]:
    """(lower, upper, items) of a candidate's shrunk accuracy over training and validation items."""
    n = stats.n + stats.validation_n
    acc = stats.combined_accuracy(prior)
    se = shrunk_se(acc, n)
    return acc - z * se, acc + z * se, n


def contenders(hashes: list[str], stats: dict[str, GraphStats], prior: float) -> tuple[str, str] | None:
    """(leader, strongest rival) for the next round, or None when the leader is separated from every rival."""
    rows = {h: bounds(stats[h], prior) for h in hashes}
    leader = max(hashes, key=lambda h: (rows[h][0], -hashes.index(h)))
    rivals = [h for h in hashes if h != leader]
    if not rivals:
        return None
    rival = max(rivals, key=lambda h: (rows[h][1], -hashes.index(h)))
    return None if rows[rival][1] < rows[leader][0] else (leader, rival)


async def recheck(ctx: SearchContext, hashes: list[str], iteration: int) -> int:
    """Score the candidates `hashes` (best first) on validation slices in rounds; returns item runs spent.

    Each round scores the leader and its strongest rival on the same next slice (so the slice's
    difficulty is estimated from both and taken out, `trace.batch_offsets`)."""
    cfg = ctx.config
    validation = ctx.split("validation")
    share = max(1, cfg.validation_items // ROUND_SHARE)
    reserve = cfg.top_candidates * cfg.validation_items
    spent, start = 0, 0
    prior = prior_accuracy(ctx.trace.records)
    while len(hashes) > 1 and spent + 2 * share <= reserve and start < len(validation):
        stats = pooled(ctx.trace.records)
        pair = contenders(hashes, stats, prior)
        if pair is None:
            break
        items = validation[start : start + share]
        await ctx.evaluate([Proposal(ctx.graph(h), None, "candidate") for h in pair], items, iteration, "validation")
        spent += len(pair) * len(items)
        start += len(items)
    return spent

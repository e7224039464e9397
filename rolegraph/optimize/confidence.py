"""How sure a search can be of its choice: each re-checked candidate's posterior chance of being the best.

Near the top of a landscape graphs are often a point or two apart, while a 16-item batch has a standard
error near 12 points and even 1,500 paired items barely separate two graphs 1.5 points apart. So the
final choice between the re-checked candidates may be clear, or a coin flip between near-ties, and their
accuracies alone do not say which. P(best) does: draw one plausible accuracy per candidate (its shrunk
mean over training and validation items plus a normal error of its standard error), score each draw
with the objective, and count how often each comes out on top.

What it is worth, measured (BENCHMARKS.md, Generalization): on held-out sim worlds 600-603 (96 searches
per optimizer) the chosen graphs were given 0.60-0.71 on average and were the best of their candidates
52-60% of the time; it runs high, so read it as an upper bound. Over every graph a search scored it is
far worse: a graph seen once on 16 unlucky items and dropped is the commonest better graph, and a normal
posterior with a shared prior gives it too little chance (given 0.24-0.42 on average, the top graph was
the best one scored 11-19% of the time), so the figure is only offered for the candidates.

Racing (`agent_reinforce_race.thompson`) draws from the same posterior, with its errors scaled by the
paired noise.

At the edges the binomial standard error is 0 (every candidate at 0.000, or all at 1.000), so every draw
would equal its mean and the first candidate would win them all: P(best) 1.00, "a clear choice", on no
evidence at all. So a standard error is never below that of a mean `EDGE_ITEMS` of an item from the edge
(`edge_se`), and a draw whose top is shared by several candidates counts a share for each. Means further
from the edge than that keep their standard error exactly, so searches whose candidates scored strictly
between 0 and 1 on their items draw and report what they did before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rolegraph.optimize.objectives import Objective
from rolegraph.optimize.trace import PRIOR_ITEMS, GraphStats, shrunk_se

DRAWS = 4000
"""Posterior draws: the standard error of a P(best) near 0.5 is under 0.01 with these."""
CONFIDENCE_SEED = 13
"""Seed stream of the draws (with the search's seed): a resumed search reports the same figures."""
EDGE_ITEMS = 0.5
"""How far from 0 or 1, in items, the spread of a mean is taken at least: half an item, the smallest
uncertainty a count of right answers has (a rule-of-succession style pull toward 1/2). Small enough that
only a mean within half an item of an edge is affected."""


@dataclass(frozen=True)
class Posterior:
    """Per graph scored: its shrunk mean accuracy (training and validation items pooled) and standard error."""

    hashes: list[str]
    mean: np.ndarray
    se: np.ndarray


def posterior(
    stats: dict[str, GraphStats], prior: float, scale: float = 1.0, hashes: list[str] | None = None
) -> Posterior:
    """`hashes` (default: every graph with any training or validation item), their shrunk means and standard
    errors x `scale`."""
    if hashes is None:
        hashes = [h for h, st in stats.items() if st.n + st.validation_n > 0]
    mean = np.array([stats[h].combined_accuracy(prior) for h in hashes])
    sizes = [stats[h].n + stats[h].validation_n for h in hashes]
    se = scale * np.array([max(shrunk_se(m, n), edge_se(n)) for m, n in zip(mean, sizes)])
    return Posterior(hashes, mean, se)


def edge_se(n: int) -> float:
    """The least standard error of a mean over n items: that of a mean `EDGE_ITEMS` from 0 (or 1), so a graph
    that got every item wrong (or right) is still uncertain rather than known to the last digit."""
    return shrunk_se(EDGE_ITEMS / (n + PRIOR_ITEMS), n)


def top_shares(values: np.ndarray) -> np.ndarray:
    """Per column of `values` (draws x graphs), its wins summed over the rows: 1 for the row's only highest value,
    1/k each when k columns share it (clipped draws tie at 0 or 1; argmax would give every tie to the first)."""
    top = values == values.max(axis=1, keepdims=True)
    return (top / top.sum(axis=1, keepdims=True)).sum(axis=0)


def p_best(
    stats: dict[str, GraphStats],
    prior: float,
    objective: Objective,
    seed: int | np.random.Generator,
    draws: int = DRAWS,
    scale: float = 1.0,
) -> dict[str, float]:
    """Per graph in `stats` with items, the share of posterior draws in which its objective is the highest
    (they sum to 1); standard errors x `scale` (racing passes the paired noise); `seed`: the search's seed,
    or a generator of the caller's own stream.

    Every objective is accuracy plus a term of latency and dollars alone (`Objective.value`), so a draw
    moves only the accuracy part."""
    post = posterior(stats, prior, scale)
    if not post.hashes:
        return {}
    offset = np.array(
        [stats[h].combined_objective(objective, prior) - stats[h].combined_accuracy(prior) for h in post.hashes]
    )
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng([seed, CONFIDENCE_SEED])
    acc = np.clip(rng.normal(post.mean, post.se, size=(draws, len(post.hashes))), 0.0, 1.0)
    wins = top_shares(acc + offset)
    return {h: float(w) / draws for h, w in zip(post.hashes, wins)}

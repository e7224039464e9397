"""The cross-entropy method on Agent-REINFORCE's probabilistic graph: the ablation without pilot,
feedback agent or racing.

Each iteration K distinct graphs are sampled from the `ProbabilisticGraph` and scored; the elite (the
best `ELITE_SHARE` of every graph scored so far, by the same shrunk pooled objective the loop ranks
by) sets each probability's target to the elite's frequency of that choice (models and roles counted
only where the slot was present, edges only where both ends were), and every probability moves
`SMOOTHING` of the way there. Nothing else: it shows what the distribution alone, moved toward what
scored well, contributes to the full agent.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rolegraph.optimize.base import Optimizer
from rolegraph.optimize.choices import from_graph
from rolegraph.optimize.context import SearchContext
from rolegraph.optimize.probabilistic import PROB_FLOOR, Logits, ProbabilisticGraph
from rolegraph.optimize.proposal import Proposal, distinct_samples
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.trace import Evaluation

ELITE_SHARE = 0.2
MIN_ELITE = 2
SMOOTHING = 0.3
"""Share of the way each probability moves toward the elite frequency per iteration (CEM's alpha)."""


class CrossEntropySearch(Optimizer):
    name = "cem"

    def __init__(self, elite_share: float = ELITE_SHARE, smoothing: float = SMOOTHING):
        super().__init__()
        self.elite_share = elite_share
        self.smoothing = smoothing
        self.pg: ProbabilisticGraph | None = None

    def bind(self, space: SearchSpace, seed: int) -> None:
        super().bind(space, seed)
        self.pg = ProbabilisticGraph(space)

    def config(self) -> dict[str, Any]:
        return {"elite_share": self.elite_share, "smoothing": self.smoothing}

    def distribution(self) -> ProbabilisticGraph | None:
        return self.pg

    def propose(self, iteration: int, count: int, rng: np.random.Generator) -> list[Proposal]:
        return distinct_samples(self.bound_pg, count, rng)

    async def observe(self, iteration: int, evaluations: list[Evaluation], ctx: SearchContext) -> None:
        board = ctx.leaderboard()
        size = max(MIN_ELITE, math.ceil(self.elite_share * len(board)))
        elite = [c for c in (from_graph(self.space, g) for g, _, _ in board[:size]) if c is not None]
        if len(elite) < MIN_ELITE:
            return
        self.pg = ProbabilisticGraph(self.space, self._moved(elite))

    def _moved(self, elite: list) -> Logits:
        """Each probability moved toward its elite frequency (over the elites where it was active)."""
        pg, a = self.bound_pg, self.smoothing
        probs = pg.probs().arrays()
        total = pg.logits.zeros_like().arrays()
        count = pg.logits.zeros_like().arrays()
        for c in elite:
            for t, n, ind, act in zip(total, count, pg.indicators(c).arrays(), pg.active(c).arrays()):
                t += ind * act
                n += act
        new = []
        for field, p, t, n in zip(Logits.FIELDS, probs, total, count):
            freq = np.where(n > 0, t / np.maximum(n, 1), p)
            moved = np.clip((1 - a) * p + a * freq, PROB_FLOOR, 1 - PROB_FLOOR)
            if field in ("presence", "edges"):
                new.append(np.log(moved / (1 - moved)))
            else:
                moved = moved / moved.sum(axis=-1, keepdims=True)
                new.append(np.log(moved))
        return Logits(*new)

    def state_dict(self) -> dict[str, Any]:
        return {"pg": self.bound_pg.to_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.pg = ProbabilisticGraph.from_dict(self.space, state["pg"])

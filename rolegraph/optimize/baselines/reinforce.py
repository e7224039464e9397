"""GPTSwarm-style REINFORCE: Adam on all logits, loss = -log p(graph) x advantage, with a
moving-average baseline. No pilot, no textual feedback: the ablation Agent-REINFORCE improves on."""

from __future__ import annotations

from typing import Any

import numpy as np

from rolegraph.optimize.base import Optimizer
from rolegraph.optimize.context import SearchContext
from rolegraph.optimize.probabilistic import Logits, ProbabilisticGraph
from rolegraph.optimize.proposal import Proposal, distinct_samples
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.trace import Evaluation

LEARNING_RATE = 0.1
BASELINE_DECAY = 0.9
ADAM_BETA1 = 0.9
ADAM_BETA2 = 0.999
ADAM_EPS = 1e-8


class Reinforce(Optimizer):
    name = "reinforce"

    def __init__(self, learning_rate: float = LEARNING_RATE, baseline_decay: float = BASELINE_DECAY):
        super().__init__()
        self.learning_rate = learning_rate
        self.baseline_decay = baseline_decay
        self.pg: ProbabilisticGraph | None = None
        self.m: Logits | None = None
        self.v: Logits | None = None
        self.t = 0
        self.baseline: float | None = None

    def bind(self, space: SearchSpace, seed: int) -> None:
        super().bind(space, seed)
        pg = self.pg = ProbabilisticGraph(space)
        self.m = pg.logits.zeros_like()
        self.v = pg.logits.zeros_like()
        # Adam's step count and the reward baseline belong to one search: a reused optimizer starts its next
        # search clean, so the same seed gives the same best graph as a fresh object (a checkpoint restores them).
        self.t = 0
        self.baseline = None

    def config(self) -> dict[str, Any]:
        return {"learning_rate": self.learning_rate, "baseline_decay": self.baseline_decay}

    def distribution(self) -> ProbabilisticGraph | None:
        return self.pg

    def propose(self, iteration: int, count: int, rng: np.random.Generator) -> list[Proposal]:
        return distinct_samples(self.bound_pg, count, rng)

    async def observe(self, iteration: int, evaluations: list[Evaluation], ctx: SearchContext) -> None:
        usable = [(e, e.choices) for e in evaluations if e.choices is not None]
        if not usable:
            return
        pg, moments = self.bound_pg, self._moments()
        rewards = np.array([e.objective for e, _ in usable])
        if self.baseline is None:
            self.baseline = float(rewards.mean())
        grads = pg.logits.zeros_like().arrays()
        for (_, choices), r in zip(usable, rewards):
            for g, s in zip(grads, pg.score_function(choices).arrays()):
                g -= (r - self.baseline) * s / len(usable)  # d(-log p * advantage)/d logits
        self.t += 1
        new = []
        for theta, g, m, v in zip(pg.logits.arrays(), grads, moments[0].arrays(), moments[1].arrays()):
            m *= ADAM_BETA1
            m += (1 - ADAM_BETA1) * g
            v *= ADAM_BETA2
            v += (1 - ADAM_BETA2) * g * g
            m_hat = m / (1 - ADAM_BETA1**self.t)
            v_hat = v / (1 - ADAM_BETA2**self.t)
            new.append(theta - self.learning_rate * m_hat / (np.sqrt(v_hat) + ADAM_EPS))
        self.pg = ProbabilisticGraph(self.space, Logits(*new))
        self.baseline = self.baseline_decay * self.baseline + (1 - self.baseline_decay) * float(rewards.mean())

    def state_dict(self) -> dict[str, Any]:
        pack = lambda lg: [a.tolist() for a in lg.arrays()]  # noqa: E731
        m, v = self._moments()
        return {"pg": self.bound_pg.to_dict(), "m": pack(m), "v": pack(v), "t": self.t, "baseline": self.baseline}

    def _moments(self) -> tuple[Logits, Logits]:
        """Adam's first and second moments, made by `bind`."""
        if self.m is None or self.v is None:
            raise RuntimeError("reinforce used before bind(space, seed)")
        return self.m, self.v

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pg = self.pg = ProbabilisticGraph.from_dict(self.space, state["pg"])
        shapes = [a.shape for a in pg.logits.arrays()]
        self.m = Logits(*(np.array(a, dtype=float).reshape(s) for a, s in zip(state["m"], shapes)))
        self.v = Logits(*(np.array(a, dtype=float).reshape(s) for a, s in zip(state["v"], shapes)))
        self.t = int(state["t"])
        self.baseline = state["baseline"]

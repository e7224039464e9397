"""The pilot part of the pre-search estimate (`estimate.py`): which graphs an optimizer's pilot scores, and whether
those runs come on top of the search's iterations or out of them.

Why its own module: the three Agent-REINFORCE variants run two different pilots. The GP and v1 variants score
theirs before the first iteration (each model alone, each model's ensemble: extra item runs); the default
(`agent_reinforce_race`) scores `pilot.anytime_pilot` as the search's first iterations, `--samples` graphs an
iteration, then the second stage `pilot.pair_mixes` from the first stage's scores. Its runs are the search's
own, and the feedback agent's first call waits until the pilot is scored. An estimate that knew only the
first kind planned no pilot at all for the default and counted an agent call for every iteration."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import permutations

from rolegraph.graphs.isomorphism import Shape
from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.base import Optimizer
from rolegraph.optimize.context import SearchConfig
from rolegraph.optimize.space import SearchSpace


@dataclass
class PilotPlan:
    """What an optimizer's pilot scores, each graph on `items` items.

    `graphs`: scored whatever the scores. `mixes`: the default's second stage, one list per ordered pair of
    models the first stage may rank best (which pair is known only from its scores; mixes isomorphic to a
    first-stage graph are left out, as the search leaves them out). `in_search`: scored in the search's own
    iterations (the default's), so its runs are part of the search's, not extra. `learns`: the agent steps on
    every iteration after the pilot (False in the pilot-only ablation)."""

    graphs: list[GraphSpec] = field(default_factory=list)
    mixes: list[list[GraphSpec]] = field(default_factory=list)
    in_search: bool = False
    learns: bool = True

    @property
    def most_mixes(self) -> int:
        return max((len(m) for m in self.mixes), default=0)

    @property
    def fewest_mixes(self) -> int:
        return min((len(m) for m in self.mixes), default=0)

    def mix_graphs(self) -> list[GraphSpec]:
        """Every candidate mix once (the typical figure is their mean, the high one their highest)."""
        out: dict[Shape, GraphSpec] = {}
        for group in self.mixes:
            for g in group:
                out.setdefault(Shape(g), g)
        return list(out.values())

    def iterations(self, samples: int, mixes: int) -> int:
        """Iterations the in-search pilot takes with `mixes` second-stage graphs: the first stage's graphs
        `samples` an iteration, then the second stage's in iterations of their own."""
        if not self.in_search or samples < 1:
            return 0
        return math.ceil(len(self.graphs) / samples) + math.ceil(mixes / samples)

    def agent_calls(self, iterations: int, samples: int, mixes: int) -> int:
        """The feedback agent's calls over `iterations`: the initial one once a pilot is scored (before the loop,
        or, in the search, only if the search outlasts it) and one step per iteration after the pilot."""
        steps = iterations if self.learns else 0
        if not self.in_search or not self.graphs:
            return steps + (1 if self.graphs else 0)
        pilot = self.iterations(samples, mixes)
        if iterations < pilot:
            return 0  # the search ends inside the pilot: the agent is never asked
        return 1 + (steps - pilot if self.learns else 0)


def default_pilot(space: SearchSpace) -> tuple[list[GraphSpec], list[list[GraphSpec]]]:
    """The default optimizer's first stage (`anytime_pilot`) and, per ordered pair of models the first stage
    may rank best, the second stage `pair_mixes` would add (`agent_reinforce_race._pilot_scored`)."""
    from rolegraph.optimize.pilot import anytime_pilot, pair_mixes

    first = [g for _, g in anytime_pilot(space)]
    seen = {Shape(g) for g in first}
    mixes = []
    for best, second in permutations(space.models, 2):
        ranked = [(space.single(best), 1.0), (space.single(second), 0.0)]  # pair_mixes reads the output's model
        mixes.append([g for _, g in pair_mixes(space, ranked) if Shape(g) not in seen])
    return first, mixes


def pilot_plan(
    optimizer: Optimizer, space: SearchSpace, config: SearchConfig, train_items: int
) -> tuple[PilotPlan, int]:
    """(plan, items each) of the optimizer's pilot; an empty plan for optimizers without one.

    The default (`agent_reinforce_race`): its anytime pilot, in the search's iterations, on the iteration's
    batch (it takes no pilot batch). The GP and v1 variants: the classic pilot before the loop (each model
    alone, each model's own ensemble), plus, for v1, its mixed ensemble as the size order would build it
    (the pilot's own ranking may pick others of like cost)."""
    from rolegraph.optimize.agent_reinforce import AgentReinforce as AgentReinforceGP
    from rolegraph.optimize.agent_reinforce_base import pilot_graphs
    from rolegraph.optimize.agent_reinforce_race import AgentReinforce as AgentReinforceDefault
    from rolegraph.optimize.agent_reinforce_v1 import AgentReinforce as AgentReinforceV1
    from rolegraph.optimize.agent_reinforce_v1 import mixed_ensemble
    from rolegraph.optimize.pilot import ensemble

    batch = min(config.batch, train_items)
    if isinstance(optimizer, AgentReinforceDefault):
        if not optimizer.use_pilot:
            return PilotPlan(learns=optimizer.learn), 0
        first, mixes = default_pilot(space)
        return PilotPlan(first, mixes, in_search=True, learns=optimizer.learn), batch
    if not isinstance(optimizer, (AgentReinforceV1, AgentReinforceGP)) or not optimizer.use_pilot:
        return PilotPlan(), 0
    graphs = [g for _, g in pilot_graphs(space)]
    if isinstance(optimizer, AgentReinforceV1):
        by_size = sorted(space.models, key=space.size, reverse=True)
        mixed = mixed_ensemble(space, by_size) if by_size and ensemble(space, by_size[0]) is None else None
        if mixed is not None:
            graphs.append(mixed)
    return PilotPlan(graphs), min(optimizer.pilot_batch or config.batch, train_items)

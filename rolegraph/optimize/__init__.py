"""Graph search: find the compute-optimal collaboration graph for a task under a budget.

    >>> from rolegraph.optimize import AgentReinforce, SearchSpace, optimize   # doctest: +SKIP
    >>> result = optimize(task, SearchSpace(pool=pool, models=(...), budget=18), AgentReinforce())

Names are loaded lazily so importing the package stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "optimize": "rolegraph.optimize.api",
    "optimize_async": "rolegraph.optimize.api",
    "resume_async": "rolegraph.optimize.api",
    "make_optimizer": "rolegraph.optimize.methods",
    "SearchResult": "rolegraph.optimize.api",
    "OPTIMIZERS": "rolegraph.optimize.methods",
    "SearchSpace": "rolegraph.optimize.space",
    "Objective": "rolegraph.optimize.objectives",
    "ProbabilisticGraph": "rolegraph.optimize.probabilistic",
    "SearchConfig": "rolegraph.optimize.context",
    "AgentReinforce": "rolegraph.optimize.agent_reinforce_race",
    "StatisticalFeedbackAgent": "rolegraph.optimize.statistical_agent_v1",
    "LLMFeedbackAgent": "rolegraph.optimize.llm_agent",
    "RandomSearch": "rolegraph.optimize.baselines.random_search",
    "Reinforce": "rolegraph.optimize.baselines.reinforce",
    "TPESearch": "rolegraph.optimize.baselines.tpe",
    "ExhaustiveSearch": "rolegraph.optimize.baselines.exhaustive",
    "SearchTrace": "rolegraph.optimize.trace",
    "fit_route": "rolegraph.optimize.route_fit",
    "RouteFit": "rolegraph.optimize.route_fit",
    "pair_run": "rolegraph.optimize.rebuild",
    "add_to_run": "rolegraph.optimize.rebuild",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'rolegraph.optimize' has no attribute '{name}'")

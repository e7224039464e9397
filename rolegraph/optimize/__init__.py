"""Graph search: find the compute-optimal collaboration graph for a task under a budget.

    >>> from rolegraph.optimize import AgentReinforce, SearchSpace, optimize   # doctest: +SKIP
    >>> result = optimize(task, SearchSpace(pool=pool, models=(...), budget=18), AgentReinforce())

Names are loaded lazily so importing the package stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

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
    "SplitShortfallWarning": "rolegraph.optimize.context",
    "AgentReinforce": "rolegraph.optimize.agent_reinforce_race",
    "StatisticalFeedbackAgent": "rolegraph.optimize.statistical_agent",
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

if TYPE_CHECKING:  # the lazy names, typed for mypy and editors (no import at run time)
    from rolegraph.optimize.agent_reinforce_race import AgentReinforce as AgentReinforce
    from rolegraph.optimize.api import SearchResult as SearchResult
    from rolegraph.optimize.api import optimize as optimize
    from rolegraph.optimize.api import optimize_async as optimize_async
    from rolegraph.optimize.api import resume_async as resume_async
    from rolegraph.optimize.baselines.exhaustive import ExhaustiveSearch as ExhaustiveSearch
    from rolegraph.optimize.baselines.random_search import RandomSearch as RandomSearch
    from rolegraph.optimize.baselines.reinforce import Reinforce as Reinforce
    from rolegraph.optimize.baselines.tpe import TPESearch as TPESearch
    from rolegraph.optimize.context import SearchConfig as SearchConfig
    from rolegraph.optimize.context import SplitShortfallWarning as SplitShortfallWarning
    from rolegraph.optimize.llm_agent import LLMFeedbackAgent as LLMFeedbackAgent
    from rolegraph.optimize.methods import OPTIMIZERS as OPTIMIZERS
    from rolegraph.optimize.methods import make_optimizer as make_optimizer
    from rolegraph.optimize.objectives import Objective as Objective
    from rolegraph.optimize.probabilistic import ProbabilisticGraph as ProbabilisticGraph
    from rolegraph.optimize.rebuild import add_to_run as add_to_run
    from rolegraph.optimize.rebuild import pair_run as pair_run
    from rolegraph.optimize.route_fit import RouteFit as RouteFit
    from rolegraph.optimize.route_fit import fit_route as fit_route
    from rolegraph.optimize.space import SearchSpace as SearchSpace
    from rolegraph.optimize.statistical_agent import StatisticalFeedbackAgent as StatisticalFeedbackAgent
    from rolegraph.optimize.trace import SearchTrace as SearchTrace


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'rolegraph.optimize' has no attribute '{name}'")


def __dir__() -> list[str]:
    """The lazy names too, so completion in a shell or notebook offers them."""
    return sorted({*globals(), *__all__})

"""The search methods by CLI name: which exist, how many iterations each runs by default, and building one
from its name and constructor options (what a run's store records, so a resumed run rebuilds the same one)."""

from __future__ import annotations

from typing import Any

from rolegraph.errors import SearchError, did_you_mean
from rolegraph.models.hub import ModelHub
from rolegraph.optimize.agent_reinforce import AgentReinforce as AgentReinforceGP
from rolegraph.optimize.agent_reinforce_race import AgentReinforce
from rolegraph.optimize.agent_reinforce_v1 import AgentReinforce as AgentReinforceV1
from rolegraph.optimize.base import Optimizer

OPTIMIZERS: tuple[str, ...] = (
    "agent-reinforce",
    "reinforce",
    "random",
    "tpe",
    "exhaustive",
    "agent-reinforce:pilot-only",
    "agent-reinforce:no-identify",
    "cem",
    "agent-reinforce:gp",
    "agent-reinforce:v1",
)
"""Search methods by CLI name. `agent-reinforce` is the racing agent (`agent_reinforce_race`: an anytime pilot,
racing between the graphs that can still be the best, and only that racing in the second half of the budget);
`agent-reinforce:pilot-only`, `agent-reinforce:no-identify` and `cem` are ablations of it (its pilot with no learning
or racing after it; the agent without the identification phase; the cross-entropy method on its probabilistic graph
with no pilot, feedback agent or racing). `agent-reinforce:gp` (the Gaussian-process variant) and
`agent-reinforce:v1` (the pre-issue-14 agent: larger-first ranking, mixed pair) are the earlier designs, kept
selectable for comparison."""
AGENT_OPTIMIZERS = frozenset({"agent-reinforce", "agent-reinforce:gp", "agent-reinforce:v1"})
"""The optimizers with a feedback agent (`--agent-model` switches it to the LLM agent)."""
DEFAULT_ITERATIONS = 10
"""Iterations of a search given neither an iteration count nor an evaluation budget."""
FINITE_OPTIMIZERS = frozenset({"exhaustive"})
"""Methods that end by themselves: without an explicit count they run to the end."""


def resolve_iterations(optimizer: str, iterations: int | None, max_evaluations: int | None) -> int | None:
    """The iteration count of a search when the user may have left it out (None = not given).

    An explicit count is always kept. Left out: an enumerating method runs to its end, a search with
    an evaluation budget runs until the budget is spent, any other search runs `DEFAULT_ITERATIONS`."""
    if iterations is not None:
        return iterations
    if optimizer in FINITE_OPTIMIZERS or max_evaluations is not None:
        return None
    return DEFAULT_ITERATIONS


def make_optimizer(
    name: str, *, hub: ModelHub | None = None, agent_model: str | None = None, **options: Any
) -> Optimizer:
    """An optimizer by CLI name, `options` passed to its constructor (what `Optimizer.config()` gives);
    `agent_model` switches Agent-REINFORCE to the LLM feedback agent."""
    if name not in OPTIMIZERS:
        raise SearchError(f"unknown optimizer '{name}'." + did_you_mean(name, OPTIMIZERS))
    if agent_model is not None and name not in AGENT_OPTIMIZERS:
        raise SearchError(f"--agent-model is for the agent-reinforce optimizers, not '{name}'")
    options = {k: v for k, v in options.items() if v is not None and k != "agent"}
    if name in AGENT_OPTIMIZERS:
        cls = {"agent-reinforce": AgentReinforce, "agent-reinforce:v1": AgentReinforceV1}.get(name, AgentReinforceGP)
        # the LLM agent falls back to the statistical agent this optimizer runs without one (its default agent)
        agent = llm_agent(agent_model, hub, fallback=cls().agent) if agent_model is not None else None
        return cls(agent, **options)
    if name == "agent-reinforce:pilot-only":
        return AgentReinforce(**{**options, "learn": False, "race": False})
    if name == "agent-reinforce:no-identify":
        plain = AgentReinforce(**{**options, "identify_from": None})
        plain.name = name
        return plain
    if name == "cem":
        from rolegraph.optimize.cem import CrossEntropySearch

        return CrossEntropySearch(**options)
    if name == "reinforce":
        from rolegraph.optimize.baselines.reinforce import Reinforce

        return Reinforce(**options)
    if name == "random":
        from rolegraph.optimize.baselines.random_search import RandomSearch

        return RandomSearch(**options)
    if name == "tpe":
        from rolegraph.optimize.baselines.tpe import TPESearch

        return TPESearch(**options)
    from rolegraph.optimize.baselines.exhaustive import ExhaustiveSearch

    return ExhaustiveSearch(**options)


def llm_agent(model_id: str, hub: ModelHub | None, fallback: Any = None):
    """The LLM feedback agent on pool model `model_id`; `fallback` (a statistical agent) drives the steps
    where the model gives no usable update (default: the default optimizer's statistical agent)."""
    from rolegraph.optimize.llm_agent import LLMFeedbackAgent

    if hub is None:
        raise SearchError("the LLM feedback agent needs a model hub")
    spec = hub.pool.get(model_id)
    if spec.simulated:
        kind = "a sim model" if spec.backend == "sim" else "a serve-sim twin (answer_key: true)"
        raise SearchError(
            f"'{model_id}' is simulated ({kind}): it only answers task items, so it cannot write "
            "feedback; give --agent-model a real model (e.g. openai/gpt-4o-mini or your own endpoint)"
        )
    return LLMFeedbackAgent(hub.get(model_id), spec=spec, fallback=fallback)

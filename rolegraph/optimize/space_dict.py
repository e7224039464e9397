"""A `SearchSpace` as the dict a run stores (`to_dict`) and back (`from_dict`): kept apart so the space's module
holds what a space is, and stays under the size limit. Every model the space was given is stored (those it left out
too, as too big for the budget or their context window): the space made again decides the same again."""

from __future__ import annotations

from typing import Any

from rolegraph.models.timings import LatencyRates
from rolegraph.optimize.objectives import Objective
from rolegraph.optimize.space_context import QUESTION_ALLOWANCE_TOKENS
from rolegraph.optimize.stages import Stage, StageOutput


def space_dict(space: Any) -> dict[str, Any]:
    """A `SearchSpace`'s stored dict (typed `Any`: naming the class here would import the module that imports this
    one, a circle tests/test_layout.py refuses)."""
    return {
        "models": list(space.models) + list(space.excluded) + list(space.window_excluded),
        "roles": list(space.roles),
        "max_nodes": space.max_nodes,
        "budget": space.budget,
        "budget_kind": space.budget_kind,
        "objective": space.objective.model_dump(),
        "family": space.family,
        "worker_edges": space.worker_edges,
        "excluded": list(space.excluded),
        "window_excluded": list(space.window_excluded),  # said in the report; the space made again finds them again
        **(
            {"stages": [st.to_dict() for st in space.stages], "stage_output": space.stage_output.to_dict()}
            if space.stages and space.stage_output is not None
            else {}
        ),
        "latency_rates": {m: r.model_dump() for m, r in space.latency_rates.items()},
        "question_tokens": space.question_tokens,
    }


def space_fields(data: dict[str, Any]) -> dict[str, Any]:
    """`SearchSpace`'s arguments (but its pool and registry) from `space_dict`'s dict; a run stored before the
    question allowance was kept gets the allowance of a space made without its task."""
    return {
        "models": tuple(data["models"]),
        "roles": tuple(data["roles"]),
        "max_nodes": int(data["max_nodes"]),
        "budget": data["budget"],
        "budget_kind": data["budget_kind"],
        "objective": Objective.model_validate(data["objective"]),
        "family": data["family"],
        "worker_edges": bool(data.get("worker_edges", True)),
        "stages": tuple(Stage.from_dict(st) for st in data.get("stages", ())),
        "stage_output": StageOutput.from_dict(data["stage_output"]) if data.get("stage_output") else None,
        "latency_rates": {m: LatencyRates.model_validate(r) for m, r in data.get("latency_rates", {}).items()},
        "question_tokens": int(data.get("question_tokens", QUESTION_ALLOWANCE_TOKENS)),
        "question_known": "question_tokens" in data,
    }

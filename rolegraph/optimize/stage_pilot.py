"""The pilot graphs of a staged space: what Agent-REINFORCE scores first to learn which models suit
the task, as `pilot_graphs` does for free-form spaces with single models and ensembles.

A staged space has no one-node graphs (every stage that cannot be skipped has a node), so each model
is tried as the whole pipeline: every stage and the output on that model (or the stage's model
closest in size when the stage does not allow it), once at each stage's narrowest non-empty width and
once at its widest, repaired into the budget. The two rows per model tell the feedback agent both
which model suits the task and whether width pays.
"""

from __future__ import annotations

from rolegraph.graphs.isomorphism import StructureIndex
from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.choices import Choices, edge_pairs, realise
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.stages import slot_ranges

VARIANTS = ("narrow", "wide")


def _choices(space: SearchSpace, model: int, wide: bool) -> Choices:
    w = space.worker_slots
    present = [False] * w
    for stage, slots in zip(space.stages, slot_ranges(space.stages)):
        nonzero = [x for x in stage.widths if x > 0]
        width = max(nonzero) if wide else min(nonzero)
        for i in slots[:width]:
            present[i] = True
    return Choices(
        present=tuple(present),
        models=tuple([model] * w),
        roles=tuple([0] * w),
        edges=tuple(False for _ in edge_pairs(w, space.worker_edges)),
        out_model=model,
        out_role=0,
    )


def staged_pilot_graphs(space: SearchSpace) -> list[tuple[str, GraphSpec]]:
    """(label, graph) per model and variant, distinct up to isomorphism, all inside the space."""
    seen = StructureIndex()
    out = []
    for variant in VARIANTS:
        for k, model_id in enumerate(space.models):
            _, spec = realise(space, _choices(space, k, variant == "wide"), "pilot")
            if seen.is_new(spec):
                label = f"staged {model_id.split('/')[-1]} ({variant})"
                out.append((label, spec.model_copy(update={"name": f"pilot-{variant}-{model_id.split('/')[-1]}"})))
    return out

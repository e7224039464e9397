"""The LLM feedback agent's reply as a JSON schema (for `response_format`), and the repairs and checks a
reply gets after parsing: near-miss renormalisation and "does it change anything".

Why a schema: a small model asked for JSON in prose writes prose, or JSON with ids it made up. A
server that decodes with a grammar (llama.cpp's) can only emit what the schema allows, so node,
model and role ids are enums (objects keyed by the known ids, with no other keys), edges are keyed
`"n0->out"` from the space's allowed pairs only (a cycle or a backward edge cannot be written),
strings and lists are bounded (a reply cannot run on until `max_tokens`), and every worker slot's
presence is required, so the reply always states a width. Probabilities are an enum of a 0.05 grid, so they are bounded
wherever the server constrains output at all; validation afterwards catches the rest.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rolegraph.optimize.choices import edge_pairs
from rolegraph.optimize.feedback import EDGE_ARROW, GraphUpdate, apply_update
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import OUTPUT_ID, SearchSpace, slot_id
from rolegraph.optimize.stages import slot_ranges

SCHEMA_NAME = "agent_reinforce_feedback"
NEAR_MISS = 0.2
"""A categorical target whose values are each in [0, 1] and sum to at most 1 + NEAR_MISS is rescaled to
sum 1 (a model that wrote 0.7 and 0.4 meant "mostly the first"); a larger excess is rejected."""
SUM_TOLERANCE = 1e-6
CHANGE_EPSILON = 1e-6
"""An update that moves no probability by more than this (at step 1) and proposes no graph changes nothing."""
MAX_TEXT_CHARS = 100
MAX_SUMMARY_CHARS = 160
MAX_POINTS = 2


PROB_STEPS = 20
"""Probabilities are asked for on a grid of 1/PROB_STEPS (0, 0.05, ..., 1) as an enum: every grammar
decoder honours an enum, while number bounds are ignored by some (llama.cpp's server wrote 3 and 4
for a number with minimum 0 and maximum 1); a target's precision beyond 0.05 means nothing here."""


def _prob() -> dict[str, Any]:
    return {"type": "number", "enum": [round(k / PROB_STEPS, 2) for k in range(PROB_STEPS + 1)]}


def _keyed(keys: list[str] | tuple[str, ...], value: dict[str, Any], required: bool = False) -> dict[str, Any]:
    """An object whose keys can only be `keys` (an enum of keys that grammar decoders enforce)."""
    out: dict[str, Any] = {"type": "object", "properties": {k: value for k in keys}, "additionalProperties": False}
    if required:
        out["required"] = list(keys)
    return out


def edge_key(src: str, dst: str) -> str:
    return f"{src}{EDGE_ARROW}{dst}"


def reply_schema(space: SearchSpace) -> dict[str, Any]:
    """The reply's JSON schema for this search space (ids as enums, text and lists bounded). In a staged space
    (`SearchSpace.masks`) each slot offers only its stage's models and role, no edge is offered to learn or to
    write in a proposed graph (the stages decide them: `llm_agent.parse_reply` fills a proposal's in),
    and a slot of a stage with one allowed width has no presence to set (it changes nothing). A small model under
    a grammar otherwise wrote closed choices the validation then refused (real SmolLM2 fell back "invalid")."""
    workers = [slot_id(i) for i in range(space.worker_slots)]
    nodes = [*workers, OUTPUT_ID]
    masks = space.masks()

    def open_(node: str, kind: str) -> list[str]:
        """The models or roles `node` may take (all of the space's, unless its stage closes some)."""
        out = node == OUTPUT_ID
        labels = space.models if kind == "models" else (space.output_roles if out else space.worker_roles)
        if masks is None:
            return list(labels)
        if kind == "models":
            row = masks.out_model if out else masks.models[nodes.index(node)]
        else:
            row = masks.out_role if out else masks.roles[nodes.index(node)]
        return [label for label, ok in zip(labels, row) if ok]

    text = {"type": "string", "maxLength": MAX_TEXT_CHARS}
    points = {"type": "array", "items": text, "maxItems": MAX_POINTS}
    edges = [
        edge_key(slot_id(i), OUTPUT_ID if j == space.worker_slots else slot_id(j))
        for i, j in edge_pairs(space.worker_slots, space.worker_edges)
    ]
    free_edges = [e for k, e in enumerate(edges) if masks is None or masks.edges_free[k]]
    fixed = {
        slot_id(i) for st, slots in zip(space.stages, slot_ranges(space.stages)) if len(st.widths) == 1 for i in slots
    }
    present = [w for w in workers if w not in fixed]  # the slots whose presence the sampler reads

    def node(n: str) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {"role": {"enum": open_(n, "roles")}, "model": {"enum": open_(n, "models")}},
            "required": ["role", "model"],
            "additionalProperties": False,
        }

    proposed = {  # nodes keyed by id: no duplicate ids, `out` always there, roles allowed per node
        "type": "object",
        "properties": {
            "nodes": {
                "type": "object",
                "properties": {n: node(n) for n in nodes},
                "required": [OUTPUT_ID],
                "additionalProperties": False,
            },
            **(
                {}
                if space.stages
                else {"edges": {"type": "array", "items": {"enum": edges}, "maxItems": len(edges), "uniqueItems": True}}
            ),
        },
        "required": ["nodes"] if space.stages else ["nodes", "edges"],
        "additionalProperties": False,
    }
    per_node = {kind: {n: _keyed(open_(n, kind), _prob()) for n in nodes} for kind in ("models", "roles")}
    update: dict[str, Any] = {
        "type": "object",
        "properties": {
            "presence": _keyed(present, _prob(), required=True),
            "models": {"type": "object", "properties": per_node["models"], "additionalProperties": False},
            "roles": {"type": "object", "properties": per_node["roles"], "additionalProperties": False},
            "edges": _keyed(free_edges, _prob()),
            "proposed_graph": proposed,
        },
        "required": ["presence"] if present else [],
        "additionalProperties": False,
    }
    gradient = {
        "type": "object",
        "properties": {"helped": points, "hurt": points, "summary": {"type": "string", "maxLength": MAX_SUMMARY_CHARS}},
        "required": ["helped", "hurt", "summary"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"gradient": gradient, "update": update},
        "required": ["gradient", "update"],
        "additionalProperties": False,
    }


def renormalise_near_misses(update: GraphUpdate) -> list[str]:
    """Rescale categorical targets that sum to just over 1 (in place); returns one note per rescale."""
    notes = []
    for kind, table in (("models", update.models), ("roles", update.roles)):
        for node, targets in table.items():
            total = sum(targets.values())
            if 1 + SUM_TOLERANCE < total <= 1 + NEAR_MISS:
                table[node] = {k: v / total for k, v in targets.items()}
                notes.append(f"{kind} of {node} summed to {total:.2f}: rescaled to 1")
    return notes


def changes_something(update: GraphUpdate, pg: ProbabilisticGraph) -> bool:
    """Whether applying `update` (at step 1) moves any probability, or it proposes a graph to evaluate."""
    if update.proposed_graph is not None:
        return True
    if update.is_empty():
        return False
    before, after = pg.probs().arrays(), apply_update(pg, update, 1.0).probs().arrays()
    return any(float(np.max(np.abs(a - b), initial=0.0)) > CHANGE_EPSILON for a, b in zip(before, after))

"""One-line refusals of `SearchSpace.__post_init__` that depend on how the space was written.

A staged space derives its roles and its size from the stages, so a message about "the roles" or "max
nodes" would name things the user never wrote (a staged file cannot set max_nodes): these say what was
written instead, the stages' widths or the output node's roles. Kept here, apart from `space.py`, for room.
"""

from __future__ import annotations

from collections.abc import Sequence

from rolegraph.optimize.stages import Stage


def no_output_role(roles: Sequence[str], staged: bool, answering: Sequence[str]) -> str:
    """No role the output node may take: the output node's roles are empty (staged), no role was given at all,
    or the roles given all write no final answer."""
    which = f"({', '.join(answering)})"
    if staged:  # each listed output role was checked to answer: the list itself is empty
        return f"the output node's roles are empty: list at least one that answers {which}"
    if not roles:
        return f"roles is empty: list at least one role that answers {which}, for the output node"
    return f"the roles {', '.join(roles)} include none that answers {which}: the output node needs one"


def size_message(max_nodes: int, stages: Sequence[Stage], lowest: int, highest: int) -> str:
    """`max_nodes` out of [lowest, highest]; for a staged space, in terms of its stages' widths."""
    if stages:
        widths = " + ".join(str(s.max_width) for s in stages)
        return (
            f"the stages' widths add up to {max_nodes - 1} worker nodes ({widths}); with the output node that is "
            f"{max_nodes} nodes, more than the limit of {highest}: narrow or drop a stage"
        )
    return f"max nodes must be between {lowest} and {highest}, got {max_nodes}"

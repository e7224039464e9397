"""`GraphSpec`: a collaboration graph as data. Nodes are roles bound to models; edges carry outputs.

Structure only: semantic checks (cycles, unknown models, reachability) live in `validate.py`,
file I/O in `io.py`, the builder in `builder.py`. Two optional parts make a graph dynamic: `fanout`
(a node's list output spawns copies of a sub-graph at run time, at most `max_fanout`; fanout.py) and
`loops` (back edges that re-run a part of the graph for at most `max_rounds` rounds; loops.py).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, StrictInt, field_validator

from rolegraph.graphs.checked import CheckedModel
from rolegraph.tools.mcp_config import McpServerSpec

MAX_FANOUT_LIMIT = 64
"""Above any sensible fan-out; a larger cap is a typo that would make the worst-case estimate absurd."""
MAX_ROUNDS_LIMIT = 20
"""Above any sensible revise or debate loop; every loop must name a bound at most this."""
DEFAULT_FANOUT_FIELD = "sub_questions"
StopCondition = Literal["accepted", "agreement", "unchanged", "never"]
LoopMemory = Literal["last", "all"]


class NodeSpec(CheckedModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    role: str
    model: str
    params: dict[str, Any] = Field(default_factory=dict)
    """Per-node call settings: temperature, max_tokens, tools (list of tool names), ..."""


class FanoutSpec(CheckedModel):
    """Copies of the sub-graph `nodes`, one per item of node `from`'s list output, at most `max_fanout`.

    Each copy's question is its item (a planner's sub-question); successors outside the group read
    every copy's output. See rolegraph/graphs/fanout.py for what a copy sees.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: str = Field(alias="from")
    nodes: list[str] = Field(min_length=1)
    max_fanout: StrictInt = Field(ge=1, le=MAX_FANOUT_LIMIT)
    """Strict, as every count of a graph file: pydantic's lax int took YAML's `true` as 1 without a word."""
    over: str = DEFAULT_FANOUT_FIELD
    """The parsed field of `from` whose list items spawn copies (a planner's `sub_questions`)."""


class LoopSpec(CheckedModel):
    """A back edge `from` -> `to`: the nodes from `to` through `from` run again, for at most `max_rounds`.

    Round r > 1 of `to` reads `from`'s output of round r-1 (`sees: last`) or of every earlier round
    (`sees: all`); the loop ends early when `until` holds. See rolegraph/graphs/loops.py.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    max_rounds: StrictInt = Field(ge=1, le=MAX_ROUNDS_LIMIT)
    """Strict: `max_rounds: true` validated and ran as 1 round (pydantic's lax int coerces a bool)."""
    until: StopCondition = "accepted"
    sees: LoopMemory = "last"


class GraphSpec(CheckedModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "graph"
    description: str | None = None
    nodes: list[NodeSpec]
    edges: list[tuple[str, str]] = Field(default_factory=list)
    output: str | None = None
    fanout: list[FanoutSpec] = Field(default_factory=list)
    loops: list[LoopSpec] = Field(default_factory=list)
    mcp_servers: list[McpServerSpec] = Field(default_factory=list)

    @property
    def dynamic(self) -> bool:
        """The graph spawns nodes or loops at run time (its estimates are worst cases)."""
        return bool(self.fanout or self.loops)

    @field_validator("edges", "fanout", "loops", "mcp_servers", mode="before")
    @classmethod
    def _edges_as_pairs(cls, value):
        if value is None:
            return []
        return value

    def node(self, node_id: str) -> NodeSpec:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    @property
    def node_ids(self) -> list[str]:
        return [n.id for n in self.nodes]

    def predecessors(self, node_id: str) -> list[str]:
        """Predecessors in edge order (the order their outputs are shown to the node)."""
        return [s for s, d in self.edges if d == node_id]

    def successors(self, node_id: str) -> list[str]:
        return [d for s, d in self.edges if s == node_id]

    def output_id(self) -> str:
        """`output`, or the single sink. Call only on a validated graph."""
        if self.output:
            return self.output
        sources = {s for s, _ in self.edges}
        sinks = [n.id for n in self.nodes if n.id not in sources]
        if len(sinks) != 1:
            raise ValueError(f"graph has {len(sinks)} sinks; set 'output'")
        return sinks[0]

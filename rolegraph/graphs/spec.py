"""`GraphSpec`: a collaboration graph as data. Nodes are roles bound to models; edges carry outputs.

Structure only: semantic checks (cycles, unknown models, reachability) live in `validate.py`,
file I/O in `io.py`, the builder in `builder.py`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class NodeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    role: str
    model: str
    params: dict[str, Any] = Field(default_factory=dict)
    """Per-node call settings: temperature, max_tokens, tools (list of tool names), ..."""


class GraphSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "graph"
    description: str | None = None
    nodes: list[NodeSpec]
    edges: list[tuple[str, str]] = Field(default_factory=list)
    output: str | None = None

    @field_validator("edges", mode="before")
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

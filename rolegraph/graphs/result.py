"""What a graph run returns: the answer, a per-node trace, and totals."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ToolEvent(BaseModel):
    tool: str
    arguments: dict = Field(default_factory=dict)
    ok: bool = True
    summary: str = ""
    note: str | None = None  # e.g. "web search failed (timeout); fell back to local search"


class NodeTrace(BaseModel):
    id: str
    role: str
    model: str
    answer: str | None = None
    output: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0  # modelled / measured time of this node's calls
    start_s: float = 0.0  # node start, relative to the run start (model time)
    end_s: float = 0.0
    cost_usd: float = 0.0
    calls: int = 0
    cached_calls: int = 0
    truncated_calls: int = 0  # replies cut at the node's max_tokens (finish_reason "length"): often no answer
    tools: list[ToolEvent] = Field(default_factory=list)
    error: str | None = None
    verdicts: dict[str, str] = Field(default_factory=dict)  # a verifier's "correct"/"incorrect" per input node
    logprob: float | None = None  # mean token log-probability of its last reply, when the endpoint returned them

    @property
    def truncated(self) -> bool:
        """Some reply of this node was cut at its max_tokens."""
        return self.truncated_calls > 0


class RunResult(BaseModel):
    graph_name: str = "graph"
    graph_hash: str = ""
    answer: str | None = None
    output_node: str = ""
    nodes: list[NodeTrace] = Field(default_factory=list)
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0  # wall latency of the run (modelled for sim with latency_scale=0)
    critical_path_s: float = 0.0  # longest path of node latencies
    flops_units: float = 0.0
    simulated: bool = False
    world: int | None = None  # the simulator world of its sim models (None: no sim model answered in-process)
    error: str | None = None

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out

    def node(self, node_id: str) -> NodeTrace:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    @property
    def truncated_nodes(self) -> list[str]:
        """Ids of the nodes with a reply cut at max_tokens, in trace order."""
        return [n.id for n in self.nodes if n.truncated_calls]

"""What a graph run returns: the answer, a per-node trace, and totals.

A run's `notes` carry what a caller must see without reading the traces: why loops stopped, what fan-outs
spawned, and one line per node and distinct failed tool call (`failed_tool_notes`), so a run in which a tool
did not work never looks clean from Python either (`rolegraph run` prints the same lines)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, Field

from rolegraph.errors import one_line
from rolegraph.models.provenance import REAL, ServedBy, Simulation


class ToolEvent(BaseModel):
    """One tool call of a node: the tool, its arguments, whether it worked (`ok`), an excerpt of its result
    (`summary`; `result` in `run --json`) and a `note` when something fell back."""

    tool: str
    arguments: dict = Field(default_factory=dict)
    ok: bool = True
    summary: str = ""
    note: str | None = None  # e.g. "web search failed (timeout); fell back to local search"


class NodeTrace(BaseModel):
    """One node's run (a fan-out copy or loop round is one trace each). Its tool calls are `tools` (a list of
    `ToolEvent`), the list `run --json` prints as `tool_calls`; a failed one also has a line in `RunResult.notes`."""

    id: str  # the node's id; a fan-out copy is `node[i]`, a loop round `node@r`
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
    simulated: bool | None = None  # its replies were simulated (None: it made no call)
    served_model: str | None = None  # the model id its server returned
    sim_fingerprint: str | None = None  # serve-sim's fingerprint, when a twin answered
    tools: list[ToolEvent] = Field(default_factory=list)
    error: str | None = None
    instance_of: str | None = None  # the graph node a fan-out copy or loop round runs
    copy_index: int | None = None  # 1-based fan-out copy
    round: int | None = None  # 1-based loop round
    inputs: list[str] = Field(default_factory=list)  # trace ids whose outputs this node read
    verdicts: dict[str, str] = Field(default_factory=dict)  # a verifier's "correct"/"incorrect" per input node
    logprob: float | None = None  # mean token log-probability of its last reply, when the endpoint returned them
    trimmed_evidence_tokens: int = 0  # searchers' evidence cut to fit its model's context window (agents/trim.py)
    trimmed_hits: int = 0  # search hits left out (or the last one cut short) for it

    @property
    def truncated(self) -> bool:
        """Some reply of this node was cut at its max_tokens."""
        return self.truncated_calls > 0


class RunResult(BaseModel):
    """A run's answer, its node traces (`nodes`, `node(id)`, `runs(id)`), totals, whether it was simulated, and
    `notes`: why loops stopped, what fan-outs spawned, and each failed tool call (`failed_tool_notes`)."""

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
    simulated: bool = False  # every reply was simulated
    simulation: Simulation = REAL  # "simulated", "partly simulated" or "real", from the replies
    served: dict[str, ServedBy] = Field(default_factory=dict)  # per pool model: what its replies said answered
    world: int | None = None  # the simulator world of its sim models (None: no sim model answered in-process)
    error: str | None = None
    notes: list[str] = Field(default_factory=list)  # fan-out and loop decisions, failed tool calls

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out

    @staticmethod
    def served_by(traces: list[NodeTrace]) -> dict[str, ServedBy]:
        """Per pool model, what the nodes' replies said answered (nodes that made no call left out)."""
        out: dict[str, ServedBy] = {}
        for t in traces:
            if t.simulated is None:
                continue
            seen = ServedBy(served_model=t.served_model, simulated=t.simulated, sim_fingerprint=t.sim_fingerprint)
            out[t.model] = out[t.model].merged(seen) if t.model in out else seen
        return out

    def node(self, node_id: str) -> NodeTrace:
        """The trace of `node_id`; for a node that ran several times (loop rounds), its last run."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        runs = self.runs(node_id)
        if runs:
            return runs[-1]
        raise KeyError(node_id)

    def runs(self, node_id: str) -> list[NodeTrace]:
        """Every run of a graph node: its one trace, or its fan-out copies / loop rounds in order."""
        return [n for n in self.nodes if n.id == node_id or n.instance_of == node_id]

    @property
    def truncated_nodes(self) -> list[str]:
        """Ids of the nodes with a reply cut at max_tokens, in trace order."""
        return [n.id for n in self.nodes if n.truncated_calls]


def failed_tool_reason(event: ToolEvent) -> str:
    """A failed call's one-line reason: its result summary without the tool's own name or an `error:` lead."""
    text = one_line(event.summary or "", limit=None)
    for lead in (f"{event.tool}: ", "error: "):
        if text.startswith(lead):
            text = text[len(lead) :]
    return text or "no reason given"


def failed_tool_notes(nodes: Iterable[NodeTrace]) -> list[str]:
    """One note per node and distinct failed tool call (ok false), in node order: the node, the tool, the reason.
    The run's `notes` end with them, so a failed tool call is seen without reading the traces."""
    lines: list[str] = []
    for n in nodes:
        failed = dict.fromkeys((e.tool, failed_tool_reason(e)) for e in n.tools if not e.ok)
        lines += [f"node {n.id}: tool {tool} failed: {reason}" for tool, reason in failed]
    return lines

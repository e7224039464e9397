"""What one item run of a graph costs in the pre-search estimate (`estimate.estimate_search`): calls, tokens,
dollars and each model's call-seconds, the simulated models' share apart.

Each node's call is priced at what it sends and the longest reply it may get. Its prompt is what a node sends
(`agents.agent.build_messages`): its role's own system prompt at the task's answer kind (a roles file's roles
included), the question (the search's own questions: their mean for the typical figure, the longest for the high
one; the family profile's assumed question, `space_context.PROFILE_QUESTION_TOKENS`, when they are not known), the
user message's headings, each predecessor's reply, and the chat template's tokens around them, all counted with the
project's token counter (`models.tokens.text_tokens`). Priced at the family's profile length instead (256 tokens for
math, whatever the role), real SmolLM2 searches of short roles were estimated at 1.8-2.9x what they paid; their
prompts per call at 1.23-1.85x what the server counted (a solver space, a staged space of short solvers into a
fuser, short roles of a roles file), 1.12-1.29x priced so: what is left is the counter's own 1.09-1.21x on these
prompts and inputs counted at their cap, where real replies stop sooner. Its reply is at the family profile's length
but no longer than the node's `max_tokens` (its params', else its role's): the endpoint stops it there (priced at
the profile alone, roles whose `max_tokens` is 96-128 were estimated at 3-5x, as the math profile's 512-token chain
of thought is 4-5x such a role's whole reply).

What is not known before the run is priced as before, and the estimate says tool rounds add more: what a searcher
passes on is its evidence, counted as its capped reply; a tool-using node's tool help and its tool rounds are not
counted; an extractive reader (`mode="read"`) is counted at its own system prompt with the question and its inputs,
though it reads one sentence of them. Only the estimate prices prompts so: the FLOPs accounting
(`graphs.analysis._node_tokens`) prices every node at the profile, and the simulator and the search's decisions rest
on it, so it stays as it is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rolegraph.agents.reader import PROMPT as READER_PROMPT
from rolegraph.agents.registry import RoleRegistry
from rolegraph.chat.types import DEFAULT_CALL_MAX_TOKENS
from rolegraph.graphs.dynamic import worst_case
from rolegraph.graphs.inputs import question_text
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.tokens import text_tokens
from rolegraph.optimize.space import LatencyUnknownError, SearchSpace
from rolegraph.optimize.space_context import PROFILE_QUESTION_TOKENS
from rolegraph.transcript import Section, render_input

if TYPE_CHECKING:
    from rolegraph.items import Item

CHAT_TEMPLATE_TOKENS = 14
"""The chat template's tokens around a node's two messages and the reply's opening, which the server counts in the
prompt: SmolLM2's ChatML (`<|im_start|>system` ... `<|im_end|>`, the same for the user message, then
`<|im_start|>assistant`) adds 14 on llama.cpp's server; Llama 3's header tokens take about as many."""


@dataclass(frozen=True)
class Prompts:
    """What a node's prompt holds besides its predecessors' replies: each role's system prompt tokens (`system`) and
    the question's (`question`), and the reply a node writes before its cap (`reply`, the family profile's)."""

    system: Mapping[str, int]
    question: int
    reply: int


@dataclass
class RunCost:
    """Calls, tokens and dollars (all models; `sim_*`: the simulated models' share of them), call-seconds per
    task model, and the feedback agent's seconds (its calls run one at a time, between iterations)."""

    calls: float = 0.0
    tokens: float = 0.0
    dollars: float = 0.0
    seconds: dict[str, float] = field(default_factory=dict)
    sim_calls: float = 0.0
    sim_tokens: float = 0.0
    sim_dollars: float = 0.0
    agent_seconds: float = 0.0

    def add(self, other: RunCost, times: float) -> None:
        self.calls += other.calls * times
        self.tokens += other.tokens * times
        self.dollars += other.dollars * times
        self.sim_calls += other.sim_calls * times
        self.sim_tokens += other.sim_tokens * times
        self.sim_dollars += other.sim_dollars * times
        self.agent_seconds += other.agent_seconds * times
        for model, s in other.seconds.items():
            self.seconds[model] = self.seconds.get(model, 0.0) + s * times

    def real(self) -> tuple[float, float, float]:
        """(calls, tokens, dollars) of the real endpoints: what is paid and waited for."""
        return self.calls - self.sim_calls, self.tokens - self.sim_tokens, self.dollars - self.sim_dollars


def role_caps(registry: RoleRegistry | None) -> dict[str, int]:
    """Each role's `max_tokens` (None: the built-in roles'): the longest reply a node of it gets by default."""
    reg = registry if registry is not None else RoleRegistry.default()
    return {r.name: r.max_tokens for r in reg}


def role_prompts(registry: RoleRegistry | None, kind: str) -> dict[str, int]:
    """Each role's system prompt tokens as its node sends it for answer kind `kind` (None: the built-in roles'): its
    template with that kind's answer format (`RoleRegistry.system_prompt`); an extractive reader sends its own."""
    reg = registry if registry is not None else RoleRegistry.default()
    return {r.name: text_tokens(READER_PROMPT if r.mode == "read" else reg.system_prompt(r.name, kind)) for r in reg}


def sent_question_lengths(items: Iterable[Item]) -> tuple[float, int] | None:
    """(mean, longest) tokens of the questions as a node sends them (`question_text`: a task's choices lettered
    under the question; the window check's `space_context.item_tokens` counts them unlettered, with an allowance
    for the rest), None for no items."""
    counts = [text_tokens(question_text(it)) for it in items]
    return (sum(counts) / len(counts), max(counts)) if counts else None


def task_prompts(space: SearchSpace, kind: str, questions: Iterable[Item] | None = None) -> tuple[Prompts, Prompts]:
    """(typical, high) `Prompts` of a search of `space` on a task of answer kind `kind`: its roles' system prompts,
    and the questions' mean (rounded) and longest tokens (`sent_question_lengths`), or the family profile's assumed
    question twice when they are not known."""
    system = role_prompts(space.registry, kind)
    lengths = sent_question_lengths(questions) if questions is not None else None
    mean, longest = lengths if lengths is not None else (PROFILE_QUESTION_TOKENS, PROFILE_QUESTION_TOKENS)
    reply = space.profile.output_tokens
    return Prompts(system, round(mean), reply), Prompts(system, longest, reply)


def capped_tokens(spec: GraphSpec, prompts: Prompts, caps: Mapping[str, int]) -> dict[str, tuple[int, int]]:
    """(prompt, completion) tokens of each node's call: the completion at `prompts.reply` but no longer than the
    node's `max_tokens` (params, else its role's in `caps`, else the call default, as the context-window check
    counts it: `space_context.node_tokens`); the prompt its role's system prompt, the question, the user message's
    headings (`render_input`, a heading per distinct predecessor), each distinct predecessor's capped completion (the
    outputs it reads) and `CHAT_TEMPLATE_TOKENS`."""

    def reply(node_id: str) -> int:
        node = spec.node(node_id)
        cap = int(node.params.get("max_tokens", caps.get(node.role, DEFAULT_CALL_MAX_TOKENS)))
        return min(prompts.reply, cap)

    def prompt(node_id: str) -> int:
        reads = list(dict.fromkeys(spec.predecessors(node_id)))
        headings = [Section(i, p, spec.node(p).role, "") for i, p in enumerate(reads, start=1)]
        framing = text_tokens(render_input("", headings))
        own = prompts.system.get(spec.node(node_id).role, 0)
        return CHAT_TEMPLATE_TOKENS + own + framing + prompts.question + sum(reply(p) for p in reads)

    return {n.id: (prompt(n.id), reply(n.id)) for n in spec.nodes}


def run_cost(
    space: SearchSpace,
    spec: GraphSpec,
    unmeasured: set[str],
    prompts: Prompts | None = None,
    caps: Mapping[str, int] | None = None,
) -> RunCost:
    """One item run of `spec` (one call per node, priced by `capped_tokens` at `prompts`, the space's family's
    answer kind with its assumed question unless given, each reply capped at its `max_tokens`, with `caps` the roles'
    caps, read from the space's registry unless given; tokens and dollars at a dynamic graph's worst case, as
    `estimate_cost` counts them), the simulated models' share apart."""
    prompts = prompts or task_prompts(space, space.family)[0]
    caps = role_caps(space.registry) if caps is None else caps
    sim = {m for m in space.models if space.pool.get(m).backend == "sim"}
    seconds: dict[str, float] = defaultdict(float)
    out = RunCost()
    for node_id, (prompt, reply) in capped_tokens(spec, prompts, caps).items():
        model = spec.node(node_id).model
        out.calls += 1
        out.sim_calls += model in sim
        try:
            seconds[model] += space.call_seconds(model, prompt, reply)
        except LatencyUnknownError:
            unmeasured.add(model)
    largest = worst_case(spec)
    for node_id, (prompt, reply) in capped_tokens(largest, prompts, caps).items():
        model = largest.node(node_id).model
        tokens, dollars = prompt + reply, space.pool.get(model).cost(prompt, reply)
        out.tokens += tokens
        out.dollars += dollars
        if model in sim:
            out.sim_tokens += tokens
            out.sim_dollars += dollars
    out.seconds = dict(seconds)
    return out


def highest_cost(costs: list[RunCost]) -> RunCost:
    """Each figure at its highest over `costs` (calls, tokens, dollars and each model's seconds apart), the real
    endpoints' part and the simulated models' part each maxed on its own, taken per graph: maxing the totals and
    the sim shares separately took the largest sim share from another graph than the largest total, so the real
    part (total less sim share) of the high figure could fall under the typical one, or under zero."""
    models = {m for c in costs for m in c.seconds}
    real = [c.real() for c in costs]
    sim_calls = max(c.sim_calls for c in costs)
    sim_tokens = max(c.sim_tokens for c in costs)
    sim_dollars = max(c.sim_dollars for c in costs)
    return RunCost(
        calls=max(r[0] for r in real) + sim_calls,
        tokens=max(r[1] for r in real) + sim_tokens,
        dollars=max(r[2] for r in real) + sim_dollars,
        seconds={m: max(c.seconds.get(m, 0.0) for c in costs) for m in models},
        sim_calls=sim_calls,
        sim_tokens=sim_tokens,
        sim_dollars=sim_dollars,
    )


def mean_cost(costs: list[RunCost]) -> RunCost:
    out = RunCost()
    for c in costs:
        out.add(c, 1.0 / len(costs))
    return out

"""Which graphs of a search space fit their models' context windows: a graph one of whose nodes may be sent more
tokens than its model reads is not in the space, so no optimizer proposes it.

Why before any call: a node whose input cannot fit is refused by the server on every try (llama.cpp: "request
exceeds the available context size"), so a search that built such a graph stopped, and its `--resume` stopped the
same way, with nothing the user could change but the pool. A node's worst case is its own `max_tokens` (its params,
else its role's) plus the `max_tokens` of every node whose output it reads (`predecessors`, a fan-out or loop at its
largest: `dynamic.worst_case`), plus an allowance for what else its prompt holds: the question
(`SearchSpace.question_tokens`), its role's system prompt at the longest answer format, and the framing around them.
A model without a `context_window` in its pool entry is checked against the window its server states (llama.cpp's
`/props`, vLLM's models list: `endpoint.server_windows`, asked as a search starts); one whose server does not say is
not limited (nothing is known to check against).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from rolegraph.agents.registry import ANSWER_KINDS, RoleRegistry
from rolegraph.errors import RolegraphWarning, SearchError
from rolegraph.graphs.dynamic import worst_case
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.pool import ModelPool
from rolegraph.models.tokens import text_tokens
from rolegraph.optimize.stages import StageOutput, stage_slots

if TYPE_CHECKING:
    from collections.abc import Iterable

    from rolegraph.items import Item

QUESTION_ALLOWANCE_TOKENS = 256
"""The question's share of a node's prompt while the space does not know its task (a space made alone, in Python or
by the command line's flags): `SearchSpace.adopt_question_tokens` puts the task's longest question in its place
before a search starts (`run_setup.check_startable`)."""
FRAMING_TOKENS = 64
"""The chat template's tokens and the user message's headings around the question (`render_input`)."""
INPUT_FRAMING_TOKENS = 16
"""Per output a node reads: the heading that introduces it in the user message."""


class ContextWindowWarning(RolegraphWarning):
    """A search leaves models out because one node of them alone cannot fit their context window: said when it
    starts, as no graph of them will be tried (the budget's left-out models are only in the space's description)."""


@dataclass(frozen=True)
class RoleCost:
    """What a node of one role adds to a prompt: its default `max_tokens` and its system prompt's tokens."""

    max_tokens: int
    prompt_tokens: int


@dataclass(frozen=True)
class Overflow:
    """A node whose worst-case call does not fit its model's window."""

    node: str
    model: str
    tokens: int
    window: int

    def __str__(self) -> str:
        return f"node '{self.node}' may be sent {self.tokens} tokens, over {self.model}'s context window {self.window}"


def role_costs(registry: RoleRegistry | None) -> dict[str, RoleCost]:
    """Each role's `RoleCost` (None: the built-in roles): read once per space, as its `fits` runs on every proposal."""
    reg = registry if registry is not None else RoleRegistry.default()
    fmt = max((reg.answer_format(kind) for kind in ANSWER_KINDS), key=len)
    return {r.name: RoleCost(r.max_tokens, text_tokens(r.render(fmt))) for r in reg}


def item_tokens(item: Item) -> int:
    """One item's question tokens (its choices included), by the shape estimate `text_tokens`."""
    return text_tokens("\n".join([item.question, *(item.choices or [])]))


def question_tokens(items: Iterable[Item]) -> int:
    """The longest question's tokens (`item_tokens`)."""
    return max((item_tokens(it) for it in items), default=0)


PROFILE_QUESTION_TOKENS = 64
"""The question a task family's token profile holds in its `prompt_tokens` (a gsm8k problem is ~60 tokens by the
shape estimate): the estimate before a search prices a prompt at it only when the task's items are not known
(`run_cost.task_prompts`); known items are priced as sent."""


def node_tokens(spec: GraphSpec, roles: dict[str, RoleCost], question: int) -> dict[str, int]:
    """Each node's worst-case call tokens: prompt (allowance and every output it reads, at their `max_tokens`)
    plus its own `max_tokens`. A role the table lacks counts with no prompt and the call default.

    What a searcher passes on is its evidence (up to `MAX_EVIDENCE_HITS` hits of `MAX_HIT_CHARS`), not its reply: it
    counts here at its `max_tokens`, as every node's output does, so a long evidence block can still overflow. Not at
    its worst on purpose: six full hits are ~2,700 tokens of prose (the offline Wikipedia summaries' first 1,200
    characters take 3.0-3.8 characters a token by the shared estimate), which would leave every model under ~3K
    tokens unable to read a searcher, while what the search tools return is usually far shorter (a staged search with
    searchers runs on SmolLM2's 2,048 tokens). Evidence longer than a reader's window holds is trimmed to it as the
    node runs (`agents.trim`), and said so."""
    from rolegraph.chat.types import DEFAULT_CALL_MAX_TOKENS

    worst = worst_case(spec)

    def cost(node_id: str) -> tuple[int, int]:
        node = worst.node(node_id)
        role = roles.get(node.role, RoleCost(DEFAULT_CALL_MAX_TOKENS, 0))
        return int(node.params.get("max_tokens", role.max_tokens)), role.prompt_tokens

    out = {}
    for node in worst.nodes:
        own, prompt = cost(node.id)
        reads = [cost(p)[0] + INPUT_FRAMING_TOKENS for p in dict.fromkeys(worst.predecessors(node.id))]
        out[node.id] = own + prompt + question + FRAMING_TOKENS + sum(reads)
    return out


def first_overflow(spec: GraphSpec, pool: ModelPool, roles: dict[str, RoleCost], question: int) -> Overflow | None:
    """The first node (in node order) whose worst case exceeds its model's `context_window`, else None."""
    windows = {n.model: pool.get(n.model).context_window for n in spec.nodes}
    if not any(windows.values()):
        return None
    worst = worst_case(spec)
    for node_id, tokens in node_tokens(spec, roles, question).items():
        model = worst.node(node_id).model
        window = windows.get(model)
        if window is not None and tokens > window:
            return Overflow(node_id, model, tokens, window)
    return None


def leave_out_unfit(space: Any) -> None:
    """Move the models of `space` (a `SearchSpace`: not imported, it imports this module) whose one node exceeds its
    window from `models` to `window_excluded`, looking again at those left out before (the question may have changed:
    one that fits now is searched again); none left is `window_excluded`'s one-line error. Before the task's question
    length is known (a space made by the command line's flags), only a node that cannot fit with no question at all
    leaves its model out: the default allowance would refuse a small window that the task's short questions fit."""
    given = (*space.models, *space.window_excluded)
    question = space.question_tokens if space.question_known else 0  # unknown yet: leave out only the sure ones
    one_node = {m: first_overflow(space.single(m), space.pool, space._role_costs, question) for m in given}
    space.window_excluded = window_excluded(given, space.pool, one_node, space.question_known)
    space.models = tuple(m for m in given if m not in space.window_excluded)  # one left out before may fit now


def fit_stages(space: Any) -> None:
    """A staged `space`: the models `leave_out_unfit` left out leave each stage and the output node too (an optional
    stage with none left goes, with its slots); a stage that must run, or the output, with none left, or a smallest
    staged graph (each stage at its smallest width and model) that overflows a window, means no staged graph fits:
    one line, naming the model and its window (the budget's message would name a budget, which is not what is short).
    """
    if not space.stages:
        return
    gone = set(space.window_excluded)

    def kept(models: tuple[str, ...], where: str) -> tuple[str, ...]:
        left = tuple(m for m in models if m not in gone)
        if not left:
            _refuse_staged(where, space.overflow(space.single(models[0])))
        return left

    stages = [st for st in space.stages if st.min_width > 0 or any(m not in gone for m in st.models)]
    space.stages = tuple(replace(st, models=kept(st.models, f"stage '{st.name}'")) for st in stages)
    space.max_nodes = stage_slots(space.stages) + 1
    out = space.staged_output
    space.stage_output = StageOutput(out.roles, kept(out.models, "the output node"))
    _refuse_staged("even its smallest graph", space.overflow(space.smallest_staged()))


def _refuse_staged(where: str, over: Overflow | None) -> None:
    if over is not None:
        raise SearchError(
            f"no graph of the staged space fits its models' context windows ({where}): node '{over.node}' may be sent "
            f"{over.tokens} tokens, more than {over.model}'s context window of {over.window}; use a model with a "
            "larger context_window, or lower the roles' max_tokens"
        )


def window_excluded(
    models: Iterable[str], pool: ModelPool, one_node: dict[str, Overflow | None], question: bool = True
) -> tuple[str, ...]:
    """The models whose one-node graph (`one_node`: its overflow, if any) does not fit their own window; all of
    them excluded is a one-line `SearchError` naming each model, its window and its smallest graph's need (counted
    with the task's longest question, or, `question` False, before any: then it says so)."""
    models = tuple(models)
    left_out = tuple(m for m in models if one_node[m] is not None)
    if models and len(left_out) == len(models):
        needs = "; ".join(
            f"{m}: context window {o.window}, one node needs {o.tokens}"
            for m in models
            if (o := one_node[m]) is not None
        )
        raise SearchError(
            f"no graph of the search space fits its model's context window ({needs} tokens: its max_tokens"
            f"{', question' if question else ''} and prompt{'' if question else ', before any question'}): use a "
            "model with a larger context_window, or lower the roles' max_tokens"
        )
    return left_out

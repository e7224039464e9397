"""The LLM feedback agent's prompts, sized to fit the agent model's context window.

Why: the agent must see what the statistical agent sees (every graph scored so far, not just this
batch), but a 2,048-token server cannot take a long search's leaderboard plus a 900-token system
prompt plus room to answer. So the prompt is assembled from sections in priority order: the header
(task, budget, ids) and the current probabilities always; then the leaderboard, best first, as many
lines as fit with the rest summarised in one line (how many more graphs, their objective range);
then this iteration's scores, per-node statistics and the agent's last feedback, each cut the same
way. A compact system prompt replaces the full one when the full one would take more than
`SYSTEM_SHARE` of the window. Sections are cut in characters; `TokenBudget` counts tokens with
`estimate_tokens`, which reads the text's shape rather than a characters-per-token ratio: the
leaderboard is mostly digits and punctuation, which common tokenizers split one a token (SmolLM2 ran
the agent's first prompt at ~1.9 characters per token, the system prompt at ~3.2), so one ratio
either overflowed the window on the first request or wasted it on prose. The estimate is scaled up
(never down) when a server reports more prompt tokens than estimated.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from string import Template

from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.tokens import shape_tokens
from rolegraph.optimize.feedback import InitContext, StepContext
from rolegraph.optimize.space import BUDGET_UNITS, OUTPUT_ID, SearchSpace, slot_id
from rolegraph.optimize.stages import Stage, slot_ranges
from rolegraph.optimize.statistical_common import describe, short_model

FIRST_CHARS_PER_TOKEN = 1.9
"""First guess for the characters of a prompt section's budget (the agent's digit-heavy user prompt ran at
~1.9 on SmolLM2); `fit_user` checks the assembled prompt with `estimate_tokens` and cuts it if it is over."""
FIT_ROUNDS = 4
MIN_CHARS_PER_TOKEN = 1.0
MAX_SCALE = 4.0
"""Most the estimate is scaled up by a server's count (a larger gap is a server counting something else)."""
TEMPLATE_TOKENS = 12
"""Chat-template tokens per message (role markers, separators)."""
SAFETY_SHARE = 0.05
SAFETY_TOKENS = 32
REPLY_SHARE = 0.25
"""Share of the window kept for the reply when fitting the prompt (capped by the agent's max_tokens). A
schema reply takes ~150-400 tokens; a quarter of a 2,048-token window (512) leaves the prompt room for the
header, the probabilities and the best few graphs (at 0.3, once the prompt was counted right, the
leaderboard no longer fitted)."""
MIN_REPLY_TOKENS = 128
"""A reply needs at least this room (a short update); less and the step falls back as `context`."""
SYSTEM_SHARE = 0.35
REASK_NOTE_TOKENS = 128
"""What a re-ask's rejection note ("That reply was rejected: ...", three problems) may take from the reply
reserve: a re-ask keeps at least `reask_floor` to answer in (the echoed reply is shortened to fit,
`LLMFeedbackAgent`). Re-asks on a 2,048-token window used to get ~200 tokens, too few for the schema's JSON."""
PROBABILITY_EDGES_SHORT = 6
LATENCY_FORMAT = ".1f"
"""A pilot graph's latency as the first prompt shows it: tenths of a second. Why not hundredths: a real endpoint's
graph latency is measured (its calls at their cached latencies, plus the run's own overhead), so a resume that
replays the pilot from the cache measures it again a few ms off (3.23 s for the first run's 3.22 s); the prompt
changed with it, missed the response cache and paid the agent's first call twice. In tenths, a replay that far off
changes the figure only across a boundary (about one resume in ten for 10 ms), and the agent needs no finer one."""


def prompt_text(name: str) -> str:
    return resources.files("rolegraph.optimize").joinpath("prompts", name).read_text(encoding="utf-8")


def estimate_tokens(text: str) -> float:
    """Tokens `text` takes, estimated high for common BPE tokenizers (`rolegraph.models.tokens.shape_tokens`: a digit
    or punctuation mark one token, letters ~4 a token). Measured with llama.cpp's /tokenize on SmolLM2: the agent's
    prompts (0.99-1.3 of the true count), the README (1.18), runs of numbers (1.00)."""
    return shape_tokens(text)


@dataclass
class TokenBudget:
    """How a context window splits into prompt and reply, in tokens and characters.

    `chars_per_token`, when given, replaces the shape estimate by a fixed ratio (a tokenizer whose ratio is
    known); it then goes down, as the scale goes up, when a server counts more tokens than estimated."""

    window: int
    reply_cap: int
    chars_per_token: float | None = None
    scale: float = 1.0

    @property
    def safety(self) -> int:
        return SAFETY_TOKENS + int(SAFETY_SHARE * self.window)

    @property
    def reply_reserve(self) -> int:
        return max(MIN_REPLY_TOKENS, min(self.reply_cap, int(REPLY_SHARE * self.window)))

    @property
    def reask_floor(self) -> int:
        """The least room a re-ask's reply should keep (its note comes out of the reply reserve)."""
        return max(MIN_REPLY_TOKENS, self.reply_reserve - REASK_NOTE_TOKENS)

    def _content_tokens(self, text: str) -> float:
        if self.chars_per_token is not None:
            return len(text) / self.chars_per_token
        return estimate_tokens(text) * self.scale

    def text_tokens(self, text: str) -> int:
        return int(self._content_tokens(text) + 0.999)

    def tokens(self, messages: list[dict]) -> int:
        content = sum(self._content_tokens(str(m.get("content") or "")) for m in messages)
        return int(content + 0.999) + TEMPLATE_TOKENS * len(messages)

    def user_tokens(self, system: str) -> int:
        """Tokens the user message may take beside `system`, leaving the reply reserve."""
        fixed = self.reply_reserve + self.safety + 2 * TEMPLATE_TOKENS
        return self.window - fixed - self.text_tokens(system)

    def prompt_chars(self, system: str) -> int:
        """First guess at the characters the user message may take beside `system` (`fit_user` checks it)."""
        ratio = self.chars_per_token if self.chars_per_token is not None else FIRST_CHARS_PER_TOKEN / self.scale
        return int(self.user_tokens(system) * ratio)

    def fit_user(self, build: Callable[[int], str], system: str) -> str:
        """The user message `build(chars)` makes, with `chars` cut until its estimate fits `user_tokens`."""
        allowed = self.user_tokens(system)
        chars = self.prompt_chars(system)
        text = build(chars)
        for _ in range(FIT_ROUNDS):
            used = self.text_tokens(text)
            if used <= allowed or chars <= 0:
                break
            chars = int(chars * max(0, allowed) / used) - 1
            text = build(chars)
        return text

    def max_tokens(self, messages: list[dict]) -> int:
        """What is left of the window for the reply (capped), or less than MIN_REPLY_TOKENS if nothing is."""
        return min(self.reply_cap, self.window - self.tokens(messages) - self.safety)

    def observe(self, messages: list[dict], prompt_tokens: int) -> None:
        """Correct the estimate upwards when a server counted more tokens than estimated (never down: erring
        high only leaves the reply more room than it needs)."""
        counted = prompt_tokens - TEMPLATE_TOKENS * len(messages)
        if prompt_tokens <= 0 or counted <= 0:
            return
        texts = [str(m.get("content") or "") for m in messages]
        if self.chars_per_token is not None:
            seen = sum(len(t) for t in texts) / counted
            self.chars_per_token = max(MIN_CHARS_PER_TOKEN, min(self.chars_per_token, seen))
            return
        estimated = sum(estimate_tokens(t) for t in texts)
        if estimated > 0:
            self.scale = min(MAX_SCALE, max(self.scale, counted / estimated))


def system_prompt(budget: TokenBudget) -> str:
    """The full system prompt, or the compact one when the full one would crowd a small window."""
    full = prompt_text("system.md")
    if budget.text_tokens(full) <= SYSTEM_SHARE * budget.window:
        return full
    return prompt_text("system_short.md")


@dataclass
class Section:
    """Lines of one prompt section; `summary(dropped)` stands for the lines that did not fit."""

    name: str
    lines: list[str]
    summary: Callable[[list[str]], str]
    empty: str = "(none)"


def _count(dropped: list[str]) -> str:
    return f"- ... {len(dropped)} more lines left out to fit the context window"


def fit(template: Template, fixed: dict[str, str], sections: list[Section], chars: int) -> str:
    """`template` with `fixed` fields and as much of each section (in order) as fits in `chars`."""
    filled = {s.name: s.empty for s in sections}
    left = chars - len(template.safe_substitute(fixed | filled))
    for s in sections:
        if not s.lines:
            continue
        keep: list[str] = []
        for k, line in enumerate(s.lines):
            rest = s.lines[k + 1 :]
            tail = len(s.summary(rest)) + 1 if rest else 0
            if len(line) + 1 + tail > left:
                break
            keep.append(line)
            left -= len(line) + 1
        dropped = s.lines[len(keep) :]
        if dropped:  # one short line always says what was left out (never a silent "(none)")
            note = s.summary(dropped)
            keep.append(note)
            left -= len(note) + 1
        filled[s.name] = "\n".join(keep)
    return template.safe_substitute(fixed | filled)


def space_fields(space: SearchSpace, task: str) -> dict[str, str]:
    budget = "none" if space.budget is None else f"{space.budget:g} {BUDGET_UNITS[space.budget_kind]}"
    return {
        "task": task,
        "family": space.family,
        "budget": budget,
        "objective": space.objective.describe(),
        "models": ", ".join(space.models),
        "roles": ", ".join(space.worker_roles),
        "output_roles": ", ".join(space.output_roles),
        "slots": slots_text(space),
    }


def slots_text(space: SearchSpace) -> str:
    """The worker slots; in a staged space, which stage owns them and what is fixed there."""
    if not space.stages:
        return ", ".join(f"n{i}" for i in range(space.worker_slots)) or "(none)"
    parts = []
    for stage, slots in zip(space.stages, slot_ranges(space.stages)):
        ids = ", ".join(f"n{i}" for i in slots)
        models = ", ".join(stage.models)
        parts.append(f"{ids} = stage '{stage.name}' (role {stage.role} only; models {models}; widths {stage.widths})")
    return (
        "; ".join(parts) + ". Staged space: roles and edges are fixed by the stages (each stage reads the previous "
        "non-empty one); only presence (width) and models are yours to set"
    )


def slot_stages(space: SearchSpace) -> dict[str, Stage]:
    """The stage that owns each worker slot of a staged space, by slot id (empty for a free-form space)."""
    return {slot_id(i): stage for stage, slots in zip(space.stages, slot_ranges(space.stages)) for i in slots}


def graph_line(space: SearchSpace, spec: GraphSpec) -> str:
    """A graph as the prompt's leaderboard and scores name it: `describe`, with, in a staged space, each worker's
    stage after its slot (`n0[search]:searcher/llama-3.2-3b`). Why: slot, role and model alone let a search-stage 3B
    read like a solve-stage 3B (two stages may share a role), while the header says what each stage owns. A
    free-form space's line is `describe`'s, unchanged."""
    stages = slot_stages(space)
    if not stages:
        return describe(spec)
    out = spec.node(OUTPUT_ID) if OUTPUT_ID in spec.node_ids else spec.node(spec.output_id())
    workers = [n for n in spec.nodes if n.id != out.id]
    if not workers:
        return describe(spec)
    inner = sum(1 for _, d in spec.edges if d != out.id)
    parts = ", ".join(f"{n.id}{_stage_tag(stages, n.id, n.role)}:{n.role}/{short_model(n.model)}" for n in workers)
    return f"[{parts}] -> {out.role}/{short_model(out.model)}" + (f" ({inner} inner edges)" if inner else "")


def _stage_tag(stages: dict[str, Stage], node_id: str, role: str) -> str:
    """`[stage]` for a node in a worker slot of a staged space playing that stage's role; nothing for the output,
    nor for a node whose id merely looks like a slot (a graph not in slot form: its stage is not read off its id)."""
    stage = stages.get(node_id)
    return f"[{stage.name}]" if stage is not None and stage.role == role else ""


def probabilities(pg, chars: int) -> str:
    """The probability table; with fewer edges when the full one would take over a third of the room."""
    full = pg.table()
    return full if len(full) * 3 <= chars else pg.table(top_edges=PROBABILITY_EDGES_SHORT)


PILOT_KINDS = {
    "single": ("model alone", "models alone"),
    "ensemble": (
        "one-model ensemble (k solvers feeding an output node of the same model)",
        "one-model ensembles (k solvers feeding an output node of the same model)",
    ),
    "refine": (
        "model refining its own answer (one solver feeding an output node of the same model)",
        "models refining their own answers (one solver feeding an output node of the same model)",
    ),
    "pipeline": (
        "graph of one model as the whole staged pipeline",
        "graphs each of one model as the whole staged pipeline",
    ),
    "mix": (
        "mix of models (solvers of different models feeding one output node)",
        "mixes of models (solvers of different models feeding one output node)",
    ),
}
"""What a pilot graph is, by its shape (`pilot_kind`), as the agent's first prompt names it."""


def pilot_kind(space: SearchSpace, spec: GraphSpec) -> str:
    """The `PILOT_KINDS` key of one pilot graph, read from the graph itself rather than from the pilot's plan."""
    if len({n.model for n in spec.nodes}) > 1:
        return "mix"
    if space.stages:
        return "pipeline"
    workers = len(spec.nodes) - 1
    return "single" if workers == 0 else "refine" if workers == 1 else "ensemble"


def pilot_summary(ctx: InitContext) -> str:
    """What the pilot scored, from its rows: which kinds of graph, and which models it left out. Why: the pilot
    is shrunk to the evaluations a search can spend (`pilot_within_budget`, the anytime pilot), so a fixed
    sentence ("each model alone and ...") told the agent of scores nobody measured."""
    counts: dict[str, int] = {}
    for row in ctx.pilot:
        kind = pilot_kind(ctx.space, row.graph)
        counts[kind] = counts.get(kind, 0) + 1
    kinds = [f"{n} {PILOT_KINDS[k][0 if n == 1 else 1]}" for k, n in counts.items()]
    text = f"The pilot scored {len(ctx.pilot)} graph{'s' if len(ctx.pilot) != 1 else ''}"
    text += f": {'; '.join(kinds)}." if kinds else "."
    seen = {n.model for row in ctx.pilot for n in row.graph.nodes}
    missing = [m for m in ctx.space.models if m not in seen]
    return text + (f" Not in any pilot graph (no score yet): {', '.join(missing)}." if missing else "")


def init_prompt(ctx: InitContext, chars: int) -> str:
    rows = sorted(ctx.pilot, key=lambda r: -r.objective)
    lines = [
        f"- {r.label}: accuracy {r.accuracy:.3f}, objective {r.objective:.3f}, budget cost {r.budget_cost:.3g}, "
        f"{r.latency_s:{LATENCY_FORMAT}} s, ${r.dollars:.5f}"
        for r in rows
    ]

    def rest(dropped: list[str]) -> str:
        worst = rows[-1].objective if rows else 0.0
        return f"- ... {len(dropped)} more pilot graphs with lower objectives (down to {worst:.3f})"

    fixed = space_fields(ctx.space, ctx.task) | {
        "pilot_summary": pilot_summary(ctx),
        "pilot_items": str(ctx.pilot[0].n if ctx.pilot else 0),
        "probabilities": probabilities(ctx.pg, chars),
    }
    return fit(Template(prompt_text("init.md")), fixed, [Section("pilot_table", lines, rest)], chars)


def step_prompt(ctx: StepContext, chars: int) -> str:
    board: list[tuple[GraphSpec, float | None, int]] = list(ctx.scored)
    if not board and ctx.best_graph is not None:
        board = [(ctx.best_graph, ctx.best_objective, ctx.best_n)]
    leaderboard = [
        f"- {graph_line(ctx.space, g)}: objective {v:.3f} on {n} items" for g, v, n in board if v is not None
    ]

    def rest_board(dropped: list[str]) -> str:
        tail = [v for _, v, _ in board[len(board) - len(dropped) :] if v is not None]
        span = f", objectives {min(tail):.3f} to {max(tail):.3f}" if tail else ""
        return f"- ... {len(dropped)} more graphs scored lower{span}"

    evals = [
        f"- {graph_line(ctx.space, e.graph)}: objective {e.objective:.3f}, accuracy {e.record.accuracy:.3f}"
        for e in ctx.evaluations
    ]
    stats = []
    stages = slot_stages(ctx.space)
    for e in ctx.evaluations:
        for node_id, st in e.per_node.items():
            right = "-" if st.correct_rate is None else f"{st.correct_rate:.2f}"
            agree = "-" if st.agree_rate is None else f"{st.agree_rate:.2f}"
            node = f"{e.record.graph_name} {node_id}{_stage_tag(stages, node_id, st.role)}"
            stats.append(f"- {node} ({st.role}, {st.model}): right {right}, agreed {agree}")
    history = [
        f"- iteration {h.iteration} ({h.agent}): {h.summary}; update {json.dumps(h.update)}" for h in ctx.history
    ]
    fixed = space_fields(ctx.space, ctx.task) | {
        "iteration": str(ctx.iteration),
        "batch_items": str(ctx.evaluations[0].record.n if ctx.evaluations else 0),
        "graphs_scored": str(len(board)),
        "probabilities": probabilities(ctx.pg, chars),
    }
    sections = [
        Section("leaderboard", leaderboard, rest_board),
        Section("evaluations", evals, _count),
        Section("node_stats", stats, _count),
        Section("history", history, _count),
    ]
    return fit(Template(prompt_text("step.md")), fixed, sections, chars)

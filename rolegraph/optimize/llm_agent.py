"""`LLMFeedbackAgent`: a pool model reads the scores and writes the textual gradient and update.

The reply must be one JSON object (see prompts/system.md), parsed by pydantic and then checked
against the probabilistic graph (unknown node ids, probabilities out of range, edges that would
make a cycle, a proposed graph over budget). An invalid reply is sent back with the problems, up
to `MAX_RETRIES` times; after that the step falls back to the statistical agent and the trace says
so. The prompts carry the paper's insights 2 and 3 and its advice for the update.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from string import Template

from pydantic import BaseModel, ConfigDict, ValidationError

from rolegraph.errors import EngineMissingError, MissingKeyError, NoAnswerKeyError, UnknownModelError
from rolegraph.models.types import ChatModel
from rolegraph.optimize.feedback import (
    Feedback,
    GraphUpdate,
    InitContext,
    StepContext,
    TextualGradient,
    validate_update,
)
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import BUDGET_UNITS, SearchSpace
from rolegraph.optimize.stages import slot_ranges
from rolegraph.optimize.statistical_agent import StatisticalFeedbackAgent, describe, pilot_table

MAX_RETRIES = 3
MAX_TOKENS = 2048
TEMPERATURE = 0.0
FATAL_ERRORS = (MissingKeyError, UnknownModelError, NoAnswerKeyError, EngineMissingError)
"""Setup mistakes stop the search with their one-line message instead of falling back silently."""
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


class AgentReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gradient: TextualGradient
    update: GraphUpdate


def _prompt(name: str) -> Template:
    return Template(resources.files("rolegraph.optimize").joinpath("prompts", name).read_text(encoding="utf-8"))


def parse_reply(text: str, pg: ProbabilisticGraph) -> tuple[AgentReply | None, list[str]]:
    """(reply, []) when usable, else (None, problems)."""
    fenced = _FENCE.findall(text or "")
    body = fenced[-1] if fenced else (text or "")
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end <= start:
        return None, ["no JSON object in the reply"]
    try:
        data = json.loads(body[start : end + 1])
    except json.JSONDecodeError as exc:
        return None, [f"invalid JSON ({exc.msg} at char {exc.pos})"]
    try:
        reply = AgentReply.model_validate(data)
    except ValidationError as exc:
        return None, [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]]
    problems = validate_update(reply.update, pg)
    return (None, problems) if problems else (reply, [])


def _space_fields(space: SearchSpace, task: str) -> dict[str, str]:
    budget = "none" if space.budget is None else f"{space.budget:g} {BUDGET_UNITS[space.budget_kind]}"
    return {
        "task": task,
        "family": space.family,
        "budget": budget,
        "objective": space.objective.describe(),
        "models": ", ".join(space.models),
        "roles": ", ".join(space.worker_roles),
        "output_roles": ", ".join(space.output_roles),
        "slots": _slots(space),
    }


def _slots(space: SearchSpace) -> str:
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


class LLMFeedbackAgent:
    """Feedback from `model` (any ChatModel of the pool; simulated models cannot do this)."""

    def __init__(
        self,
        model: ChatModel,
        *,
        max_retries: int = MAX_RETRIES,
        max_tokens: int = MAX_TOKENS,
        fallback: StatisticalFeedbackAgent | None = None,
    ):
        self.model = model
        self.max_retries = max_retries
        self.max_tokens = max_tokens
        self.fallback = fallback or StatisticalFeedbackAgent()
        self.name = f"llm:{model.model_id}"

    async def initial(self, ctx: InitContext) -> Feedback:
        fields = _space_fields(ctx.space, ctx.task) | {
            "pilot_items": str(ctx.pilot[0].n if ctx.pilot else 0),
            "pilot_table": pilot_table(ctx.pilot),
            "probabilities": ctx.pg.table(),
        }
        text = _prompt("init.md").safe_substitute(fields)
        got = await self._ask(text, ctx.pg, ctx.seed)
        if isinstance(got, Feedback):
            return got
        fb = self.fallback.initial_sync(ctx)
        return fb.model_copy(
            update={"agent": f"{self.fallback.name} (fallback)", "fallback": got[1], "attempts": got[0]}
        )

    async def step(self, ctx: StepContext) -> Feedback:
        evals = (
            "\n".join(
                f"- {e.record.graph_name}: {describe(e.graph)}: objective {e.objective:.3f}, accuracy "
                f"{e.record.accuracy:.3f}"
                for e in ctx.evaluations
            )
            or "(none)"
        )
        stats = []
        for e in ctx.evaluations:
            for node_id, st in e.per_node.items():
                right = "-" if st.correct_rate is None else f"{st.correct_rate:.2f}"
                agree = "-" if st.agree_rate is None else f"{st.agree_rate:.2f}"
                stats.append(
                    f"- {e.record.graph_name} {node_id} ({st.role}, {st.model}): right {right}, agreed {agree}"
                )
        history = (
            "\n".join(
                f"- iteration {h.iteration} ({h.agent}): {h.summary}; update {json.dumps(h.update)}"
                for h in ctx.history
            )
            or "(none)"
        )
        best = describe(ctx.best_graph) if ctx.best_graph is not None else "(none yet)"
        fields = _space_fields(ctx.space, ctx.task) | {
            "iteration": str(ctx.iteration),
            "batch_items": str(ctx.evaluations[0].record.n if ctx.evaluations else 0),
            "evaluations": evals,
            "node_stats": "\n".join(stats) or "(none)",
            "best_graph": best,
            "best_objective": "n/a" if ctx.best_objective is None else f"{ctx.best_objective:.3f}",
            "best_items": str(ctx.best_n),
            "probabilities": ctx.pg.table(),
            "history": history,
        }
        text = _prompt("step.md").safe_substitute(fields)
        got = await self._ask(text, ctx.pg, ctx.seed + ctx.iteration)
        if isinstance(got, Feedback):
            return got
        fb = self.fallback.step_sync(ctx)
        return fb.model_copy(
            update={"agent": f"{self.fallback.name} (fallback)", "fallback": got[1], "attempts": got[0]}
        )

    async def _ask(self, user_text: str, pg: ProbabilisticGraph, seed: int) -> Feedback | tuple[int, str]:
        """A validated Feedback, or (attempts made, why it failed) for the fallback."""
        messages = [
            {"role": "system", "content": _prompt("system.md").template},
            {"role": "user", "content": user_text},
        ]
        problems: list[str] = []
        attempts = 0
        for attempt in range(self.max_retries + 1):
            attempts = attempt + 1
            try:
                out = await self.model.complete(
                    messages, temperature=TEMPERATURE, max_tokens=self.max_tokens, seed=seed, sample=attempt
                )
            except FATAL_ERRORS:
                raise
            except Exception as exc:  # noqa: BLE001 - a failed call is one failed attempt
                problems = [f"the model call failed ({type(exc).__name__}: {exc})"]
                continue
            reply, problems = parse_reply(out.text, pg)
            if reply is not None:
                return Feedback(gradient=reply.gradient, update=reply.update, agent=self.name, attempts=attempts)
            messages = messages + [
                {"role": "assistant", "content": out.text},
                {
                    "role": "user",
                    "content": "That reply was rejected: "
                    + "; ".join(problems)
                    + ". Answer again with one corrected JSON object only.",
                },
            ]
        return attempts, f"{self.name} gave no valid update in {attempts} attempts: {problems[0] if problems else '?'}"

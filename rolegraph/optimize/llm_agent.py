"""`LLMFeedbackAgent`: a pool model reads the scores and writes the textual gradient and update.

The prompt is sized to the agent model's context window (the pool entry's `context_window`, else what
the server says, else a default; `agent_prompt`), with `max_tokens` set to what is left. Where the
endpoint takes structured output, the reply is constrained by a JSON schema with the ids as enums
(`agent_schema`; the form the endpoint takes is found once, `rolegraph.models.endpoint`, and asked again
at the next steps while a probe timed out, `MAX_PROBES`; the probes go through the agent's model like its
other calls, so they are counted in `paid_usd` and a dollar cap can refuse them); elsewhere
the prompt asks for the JSON. The reply is parsed by pydantic (extra keys ignored), near-miss
categorical targets are rescaled, and it is checked against the probabilistic graph (unknown ids,
probabilities out of range, edges that would make a cycle, a proposed graph over budget) and for
changing something. An unusable reply is sent back with its problems, up to `MAX_RETRIES` times; a
call that cannot succeed by asking again (a 400 "context exceeded", an unreachable endpoint after the
backend's own retries) ends the attempts at once. Then the step falls back to a statistical agent (the
one of the optimizer that was asked for: `make_optimizer` passes it; by default the default optimizer's,
`statistical_agent`) and the record says so, with a reason: `context`, `invalid`, `empty` (nothing
changed), `timeout` (the backend's attempts all timed out; the note says how many were sent) or `error`.
Requests the backend re-sent are never silent: the step's note counts them (`watch_attempts`).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import ChatModel, Message
from rolegraph.errors import (
    BudgetExceededError,
    EngineMissingError,
    MissingKeyError,
    NoAnswerKeyError,
    UnknownModelError,
)
from rolegraph.models.attempts import CallAttempts, watch_attempts
from rolegraph.models.endpoint import (
    DEFAULT_CONTEXT,
    EndpointInfo,
    StructuredForm,
    describe_endpoint,
    probe_structured,
    probes_structured,
    response_format,
)
from rolegraph.models.openai_backend import ModelCallError
from rolegraph.optimize.agent_prompt import MIN_REPLY_TOKENS, TokenBudget, init_prompt, step_prompt, system_prompt
from rolegraph.optimize.agent_schema import SCHEMA_NAME, changes_something, renormalise_near_misses, reply_schema
from rolegraph.optimize.feedback import (
    Feedback,
    FeedbackAgent,
    GraphUpdate,
    InitContext,
    ProposedGraph,
    StepContext,
    TextualGradient,
    validate_update,
)
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import OUTPUT_ID, SearchSpace, slot_id
from rolegraph.optimize.stages import slot_ranges, stage_edges
from rolegraph.optimize.statistical_agent import StatisticalFeedbackAgent

MAX_RETRIES = 2
"""Re-asks after a rejected reply (with its problems). A model that failed three times with the reasons in
front of it rarely succeeds on a fourth, and on a small local server each attempt costs seconds."""
REPLY_CAP = 1024
"""Most tokens a reply may take even when the window has room for more (the schema bounds it anyway)."""
TEMPERATURE = 0.0
RETRY_TEMPERATURE = 0.7
"""Asked again after a rejection, a model at temperature 0 tends to repeat itself word for word (a small
one does, whatever the rejection said): retries sample."""
FATAL_ERRORS = (MissingKeyError, UnknownModelError, NoAnswerKeyError, EngineMissingError)
"""Setup mistakes stop the search with their one-line message instead of falling back silently."""
STRUCTURED_REFUSED = frozenset({400, 415, 422, 500, 501})
"""Statuses with which a server may refuse `response_format` itself: the agent then asks in plain text."""
ECHO_CHARS = 300
"""How much of a rejected reply is shown back to the model with its problems."""
ECHO_STEPS = (ECHO_CHARS, ECHO_CHARS // 2, ECHO_CHARS // 4, 0)
"""Shorter echoes tried on a re-ask whose reply would otherwise get less than the budget's `reask_floor`."""
MAX_PROBLEMS = 3
MAX_PROBES = 3
"""Structured-output probes before the agent settles for plain-text JSON when none decided (each timed out or
could not connect): one a step, so a busy server costs at most this many 1-token requests."""
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
FallbackReason = Literal["context", "invalid", "empty", "timeout", "error"]
TIMEOUT_HINT = "a slow agent model needs a longer timeout_s in its pool entry (seconds per request)"


class AgentReply(BaseModel):
    """The reply as parsed: extra keys anywhere are ignored, the known ones validated."""

    model_config = ConfigDict(extra="ignore")

    gradient: TextualGradient
    update: GraphUpdate
    _notes: list[str] = PrivateAttr(default_factory=list)

    @property
    def notes(self) -> list[str]:
        return self._notes


def _with_stage_edges(proposed: ProposedGraph, space: SearchSpace) -> ProposedGraph:
    """`proposed` with the edges its stages give its nodes (`stage_edges`: each non-empty stage reads the previous
    one, the output the last), whatever edges it wrote: in a staged space the stages decide them, so the LLM agent's
    schema asks for none (a small model wrote edges the stages forbid, or edges naming nodes it never declared). A
    free-form space's proposal is returned as it is."""
    if not space.stages:
        return proposed
    ids = {n.id for n in proposed.nodes}
    groups = [[slot_id(i) for i in slots if slot_id(i) in ids] for slots in slot_ranges(space.stages)]
    return proposed.model_copy(update={"edges": stage_edges(groups, OUTPUT_ID)})


def parse_reply(text: str, pg: ProbabilisticGraph) -> tuple[AgentReply | None, list[str]]:
    """(reply, []) when usable, else (None, problems). Near-miss categorical sums are rescaled first."""
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
    reply._notes = renormalise_near_misses(reply.update)
    if reply.update.proposed_graph is not None:  # a staged space's stages decide its edges
        reply.update.proposed_graph = _with_stage_edges(reply.update.proposed_graph, pg.space)
    problems = validate_update(reply.update, pg)
    return (None, problems) if problems else (reply, [])


@dataclass
class _Failed:
    attempts: int
    reason: FallbackReason
    message: str


class LLMFeedbackAgent:
    """Feedback from `model` (any ChatModel of the pool; simulated models cannot do this).

    `spec` is the model's pool entry (taken from the hub's model when not given): it decides the
    context window and lets the endpoint be asked what it supports. Without one (a test double), the
    agent assumes `DEFAULT_CONTEXT` and asks for JSON in the prompt only. `fallback` drives the steps the
    model gives no usable update for: the statistical agent of the optimizer it serves (`make_optimizer`
    passes it), by default the default optimizer's."""

    def __init__(
        self,
        model: ChatModel,
        *,
        spec: ModelSpec | None = None,
        max_retries: int = MAX_RETRIES,
        max_tokens: int = REPLY_CAP,
        fallback: FeedbackAgent | None = None,
        endpoint: EndpointInfo | None = None,
    ):
        self.model = model
        found = spec if spec is not None else getattr(model, "spec", None)
        self.spec = found if isinstance(found, ModelSpec) else None
        self.max_retries = max_retries
        self.max_tokens = max_tokens
        self.fallback: FeedbackAgent = fallback or StatisticalFeedbackAgent()
        self.name = f"llm:{model.model_id}"
        self.endpoint = endpoint
        self.budget: TokenBudget | None = None
        self.structured = endpoint.structured if endpoint is not None else None
        self.probes = 0
        self.probe_note: str | None = None
        """Why the structured form was not found (shown in the summary's endpoint and logged)."""

    def _probed(self, form: StructuredForm, undecided: str | None) -> None:
        """Take a probe's finding; an undecided one leaves the form open (this step asks in plain text) and
        says so, and after `MAX_PROBES` of them the agent stops asking and says that too."""
        self.probes += 1
        if undecided is None:
            self.structured = form
            self.probe_note = None if self.probes == 1 else f"structured output found at probe {self.probes}"
            return
        last = self.probes >= MAX_PROBES
        self.structured = "none" if last else None
        then = "its requests go without a schema" if last else "this step asks without a schema; asked again next step"
        self.probe_note = f"{undecided} ({self.probes} of {MAX_PROBES} probes): {then}"
        logging.getLogger(__name__).warning("feedback agent %s: %s", self.name, self.probe_note)

    async def _ready(self) -> TokenBudget:
        """Find out (once) the endpoint's context window and structured-output form; while a probe decided
        nothing (a busy server timed it out), probe again at each step, up to `MAX_PROBES`."""
        if self.endpoint is None:
            if self.spec is None:
                self.endpoint = EndpointInfo(DEFAULT_CONTEXT, "default", "none")
            else:
                self.endpoint = await describe_endpoint(self.spec)  # the window: free queries, no probe
                if not probes_structured(self.spec):
                    self._probed(self.endpoint.structured, None)
        if self.structured is None and self.spec is not None and probes_structured(self.spec):
            self._probed(*await self._probe())
        if self.structured is None and self.probe_note is None:
            self.structured = self.endpoint.structured
        if self.budget is None:
            self.budget = TokenBudget(self.endpoint.context_window, self.max_tokens)
        return self.budget

    async def _probe(self) -> tuple[StructuredForm, str | None]:
        """The structured-output probe, through the agent's model (the hub's: guarded and counted like every
        call of the agent). A refusal by the dollar cap or a broken client decides nothing, as a timeout does:
        the step then asks in plain text, where the cap refuses it again and the search stops at its cap."""
        try:
            return await probe_structured(self.model)
        except FATAL_ERRORS:
            raise
        except BudgetExceededError as exc:
            return "none", f"the structured-output probe was refused ({exc})"
        except Exception as exc:  # noqa: BLE001 - a broken client is a failed step, not a failed search
            return "none", f"the structured-output probe failed ({type(exc).__name__}: {exc})"

    def describe(self) -> dict[str, Any]:
        """What the agent found about its endpoint (for the search summary)."""
        if self.endpoint is None:
            return {}
        found = {
            "context_window": self.endpoint.context_window,
            "context_source": self.endpoint.context_source,
            "structured_output": self.structured or "none",
        }
        return found | ({"structured_note": self.probe_note} if self.probe_note else {})

    async def initial(self, ctx: InitContext) -> Feedback:
        budget = await self._ready()
        system = system_prompt(budget)
        user = budget.fit_user(lambda chars: init_prompt(ctx, chars), system)
        got = await self._ask(system, user, ctx.pg, ctx.seed)
        return got if isinstance(got, Feedback) else self._fall_back(await self.fallback.initial(ctx), got)

    async def step(self, ctx: StepContext) -> Feedback:
        budget = await self._ready()
        system = system_prompt(budget)
        user = budget.fit_user(lambda chars: step_prompt(ctx, chars), system)
        got = await self._ask(system, user, ctx.pg, ctx.seed + ctx.iteration)
        return got if isinstance(got, Feedback) else self._fall_back(await self.fallback.step(ctx), got)

    def _fall_back(self, fb: Feedback, failed: _Failed) -> Feedback:
        return fb.model_copy(
            update={
                "agent": f"{self.fallback.name} (fallback)",
                "fallback": failed.message,
                "fallback_reason": failed.reason,
                "attempts": failed.attempts,
            }
        )

    def _messages(
        self, system: str, user: str, previous: str | None, problems: list[str], echo: int = ECHO_CHARS
    ) -> list[Message]:
        messages: list[Message] = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        if problems:
            if previous is not None and echo > 0:
                shown = previous if len(previous) <= echo else previous[:echo] + " ..."
                messages.append({"role": "assistant", "content": shown})
            note = "; ".join(problems[:MAX_PROBLEMS])
            messages.append(
                {
                    "role": "user",
                    "content": f"That reply was rejected: {note}. Answer again with one corrected JSON object only.",
                }
            )
        return messages

    def _reask(self, system: str, user: str, previous: str | None, problems: list[str]) -> tuple[list[Message], int]:
        """The messages of this attempt and the reply's max_tokens. A re-ask echoes the rejected reply cut
        shorter (to nothing at last) until the reply keeps the budget's `reask_floor`: a schema reply needs a
        few hundred tokens, and the echo is the part of the prompt that can give them up."""
        assert self.budget is not None
        for echo in ECHO_STEPS:
            messages = self._messages(system, user, previous, problems, echo)
            max_tokens = self.budget.max_tokens(messages)
            if max_tokens >= min(self.budget.reask_floor, self.max_tokens) or previous is None or not problems:
                break
        return messages, max_tokens

    async def _ask(self, system: str, user: str, pg: ProbabilisticGraph, seed: int) -> Feedback | _Failed:
        """A validated Feedback that changes something, or why not (for the fallback)."""
        assert self.budget is not None
        budget = self.budget
        problems: list[str] = []
        previous: str | None = None
        reason: FallbackReason = "invalid"
        attempt = attempts = 0
        sent = CallAttempts()  # the transport's requests over the step's calls (timed-out ones re-sent included)
        while attempt <= self.max_retries:
            attempts = attempt + 1
            messages, max_tokens = self._reask(system, user, previous, problems)
            if max_tokens < MIN_REPLY_TOKENS:
                return _Failed(
                    attempt,
                    "context",
                    f"{self.name}: the prompt (~{budget.tokens(messages)} tokens) leaves no room to answer in "
                    f"the {budget.window}-token context window",
                )
            fmt = response_format(self.structured or "none", SCHEMA_NAME, reply_schema(pg.space))
            extra: dict[str, Any] = {"response_format": fmt} if fmt is not None else {}
            try:
                with watch_attempts() as seen:
                    try:
                        out = await self.model.complete(
                            messages,
                            temperature=TEMPERATURE if attempt == 0 else RETRY_TEMPERATURE,
                            max_tokens=max_tokens,
                            seed=seed,
                            sample=attempt,
                            **extra,
                        )
                    finally:
                        sent.sent += seen.sent
                        sent.failed += seen.failed
            except FATAL_ERRORS:
                raise
            except ModelCallError as exc:
                if exc.cause == "context":
                    return _Failed(attempts, "context", f"{self.name}: {exc}")
                if exc.cause == "timeout":
                    return _Failed(
                        attempts, "timeout", f"{self.name}: {exc} ({sent.total} requests sent); {TIMEOUT_HINT}"
                    )
                if fmt is not None and exc.cause == "http" and exc.status in STRUCTURED_REFUSED:
                    # the endpoint refused the schema itself: the same question in plain text, from now on
                    # (not counted as an attempt: the model has not answered; it happens once per agent)
                    self.structured = "none"
                    continue
                return _Failed(attempts, "error", f"{self.name}: {exc}")
            except Exception as exc:  # noqa: BLE001 - a broken client is a failed step, not a failed search
                return _Failed(attempts, "error", f"{self.name}: the model call failed ({type(exc).__name__}: {exc})")
            attempt += 1
            budget.observe(messages, out.usage.input_tokens)
            reply, problems = parse_reply(out.text, pg)
            previous = out.text
            if reply is None:
                reason = "invalid"
                if out.truncated:
                    problems = [f"the reply was cut at max_tokens ({max_tokens}): answer shorter", *problems]
            elif not changes_something(reply.update, pg):
                reason = "empty"
                problems = [
                    "the update changes no probability and proposes no graph: give targets that differ from "
                    "the current probabilities"
                ]
            else:
                resent = self._resent(sent)
                return Feedback(
                    gradient=reply.gradient,
                    update=reply.update,
                    agent=self.name,
                    attempts=attempts,
                    notes=reply.notes + ([resent] if resent else []),
                )
        first = problems[0] if problems else "?"
        resent = self._resent(sent)
        tail = f" ({resent})" if resent else ""
        return _Failed(attempts, reason, f"{self.name} gave no usable update in {attempts} attempts: {first}{tail}")

    def _resent(self, sent: CallAttempts) -> str | None:
        """A note (also logged) when the backend re-sent failed requests of the step's calls, else None."""
        if not sent.failed:
            return None
        kinds = ", ".join(dict.fromkeys(sent.failed))
        note = f"{len(sent.failed)} of {sent.total} requests to the model failed and were re-sent ({kinds})"
        if any("timed out" in f for f in sent.failed):
            note += f"; {TIMEOUT_HINT}"
        logging.getLogger(__name__).warning("feedback agent %s: %s", self.name, note)
        return note

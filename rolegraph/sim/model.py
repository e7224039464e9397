"""Simulated models (`sim/*`): seeded stand-ins calibrated to published accuracies.

A sim model reads its messages as a model would: its role from the system prompt, the question
and its predecessors' outputs from the user message (rolegraph/transcript.py). It knows the
item's gold only through the `AnswerKey` passed beside the messages, and decides with seeded
randomness by the rules in `rolegraph.sim.rules`, in the world its spec names (`spec.world`).
The equations and constants are in docs/sim.md. Same seed, same world, same output.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import DEFAULT_CALL_MAX_TOKENS, Completion, FinishReason, Message, Usage
from rolegraph.errors import NoAnswerKeyError, RolegraphError
from rolegraph.items import AnswerKey
from rolegraph.settings import Settings
from rolegraph.sim import calibration as cal
from rolegraph.sim import confidence as conf
from rolegraph.sim import text as txt
from rolegraph.sim.draws import Draws
from rolegraph.sim.reading import read_sections_fast
from rolegraph.sim.rules import SimBrain
from rolegraph.transcript import read_question, read_role

DIGEST_BYTES = 12


class SimRequestError(RolegraphError):
    """A request the sim (like a real endpoint) refuses: an impossible max_tokens."""


@dataclass(frozen=True)
class Reply:
    """What the model returns for one request: its text as cut at max_tokens, and why it stopped."""

    text: str
    finish_reason: FinishReason  # "stop" (it ended its reply) or "length" (cut at max_tokens, as a server does)

    @classmethod
    def cut(cls, text: str, max_tokens: int | None) -> Reply:
        """A server stops decoding at max_tokens: the model does not see the limit, its reply is cut."""
        if max_tokens is None or txt.approx_tokens(text) <= max_tokens:
            return cls(text, "stop")
        return cls(txt.fit_chars(text, max_tokens), "length")


def _digest(messages: list[Message]) -> str:
    h = hashlib.blake2b(digest_size=DIGEST_BYTES)
    for m in messages:
        h.update(str(m.get("role")).encode())
        h.update(str(m.get("content")).encode())
    return h.hexdigest()


class SimChatModel:
    """A `ChatModel` over the sim rules. `latency_scale` > 0 really sleeps that share of the latency."""

    def __init__(self, spec: ModelSpec, settings: Settings):
        self.spec = spec
        self.settings = settings
        self._brains: dict[str, SimBrain] = {}

    @property
    def model_id(self) -> str:
        return self.spec.id

    def brain(self, family: str) -> SimBrain:
        if family not in self._brains:
            self._brains[family] = SimBrain(self.spec, family)
        return self._brains[family]

    def respond(
        self,
        messages: list[Message],
        *,
        temperature: float = 0.0,
        seed: int = 0,
        sample: int = 0,
        answer_key: AnswerKey | None = None,
        max_tokens: int | None = None,
    ) -> Completion:
        """The synchronous core of `complete` (no sleeping): used by the server and benchmarks too.

        The reply is cut at `max_tokens` (None: no limit); usage, latency and cost count what is returned.
        A reply at the role's default limit is never cut (REPLY_MAX_TOKENS), so None and the default agree.
        """
        if max_tokens is not None and max_tokens < 1:
            raise SimRequestError(f"max_tokens must be a positive integer, got {max_tokens}")
        if answer_key is None:
            raise NoAnswerKeyError(
                f"simulated model '{self.spec.id}' answers task items only (it needs the item's answer key); "
                "for a free-form question use a real model: local/smollm2-135m offline, an openai/* model, "
                "or your own OpenAI-compatible endpoint in a pool file"
            )
        system = next((m.get("content") or "" for m in messages if m.get("role") == "system"), "")
        user = next((m.get("content") or "" for m in reversed(messages) if m.get("role") == "user"), "")
        role = read_role(system) or "solver"
        sections = read_sections_fast(user)
        tokens_in = sum(txt.approx_tokens(str(m.get("content") or "")) for m in messages)
        draw_sample = sample if temperature > 0 else 0
        digest = _digest(messages)
        draws = Draws(seed, draw_sample, self.spec.id, role, answer_key.item_id, digest)
        decision = self.brain(answer_key.family).decide(
            role, read_question(user), sections, answer_key, tokens_in, draws
        )
        reply = Reply.cut(decision.text, max_tokens)
        tokens_out = txt.approx_tokens(reply.text)
        logprob = None
        if self.spec.logprobs:  # as a real endpoint: only when asked; its own draws, so no answer changes
            brain = self.brain(answer_key.family)
            answer = decision.answer if reply.finish_reason != "length" else None  # cut: no answer to be sure of
            right = None if answer is None else brain.is_gold(answer, answer_key)
            z = conf.confidence_z(
                right,
                brain.own_accuracy,
                self.spec.id,
                answer_key.family,
                answer_key.item_id,
                seed,
                draw_sample,
                role,
                digest,
            )
            logprob = conf.mean_logprob(z)
        return Completion(
            text=reply.text,
            usage=Usage(input_tokens=tokens_in, output_tokens=tokens_out),
            latency_s=cal.latency_s(self.spec, tokens_in, tokens_out),
            model_id=self.spec.id,
            cost_usd=self.spec.cost(tokens_in, tokens_out),
            simulated=True,
            finish_reason=reply.finish_reason,
            logprob=logprob,
        )

    async def complete(
        self,
        messages: list[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int = DEFAULT_CALL_MAX_TOKENS,
        seed: int = 0,
        tools: list[dict] | None = None,
        sample: int = 0,
        answer_key: AnswerKey | None = None,
        response_format: dict | None = None,
    ) -> Completion:
        """`response_format` is ignored: the sim answers task items in text, which is parsed as a real
        model's would be (and it cannot write feedback, where structured output is asked for)."""
        out = self.respond(
            messages, temperature=temperature, seed=seed, sample=sample, answer_key=answer_key, max_tokens=max_tokens
        )
        if self.settings.latency_scale > 0:
            await asyncio.sleep(out.latency_s * self.settings.latency_scale)
        return out

"""The call side of the chat-model contract: messages in, a `Completion` out, through any `ChatModel`."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Literal, Protocol, get_args, runtime_checkable

from pydantic import BaseModel, Field, field_validator

from rolegraph.items import AnswerKey

Message = dict[str, Any]
"""An OpenAI-style chat message: {"role": "system"|"user"|"assistant"|"tool", "content": str, ...}."""

DEFAULT_CALL_MAX_TOKENS = 512
"""The reply limit of a model call whose caller sets none: the default of `ChatModel.complete` and of every
wrapper, backend and stream in the model layer, written once so that a call made through the hub, the cache or
a backend directly is cut at the same length (and keyed alike in the response cache). Graph nodes never rely
on it: a role has its own default (`agents.registry.DEFAULT_MAX_TOKENS`)."""


FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "other"]
"""Why a reply ended, in the OpenAI API's terms: "stop" (the model ended it), "length" (cut at max_tokens),
"tool_calls", "content_filter"; "other" for anything else a server reports (e.g. vLLM's "abort")."""
FINISH_REASONS: frozenset[str] = frozenset(get_args(FinishReason))
LEGACY_FINISH_REASONS = MappingProxyType({"function_call": "tool_calls", "eos": "stop", "max_tokens": "length"})
"""Older or non-OpenAI spellings some compatible servers still send."""


def finish_reason_of(raw: object) -> FinishReason:
    """A server's finish reason as a `FinishReason`: missing means "stop" (the API's only silent case)."""
    if raw is None or raw == "":
        return "stop"
    text = str(raw)
    text = LEGACY_FINISH_REASONS.get(text, text)
    return text if text in FINISH_REASONS else "other"  # type: ignore[return-value]


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens


class ToolCall(BaseModel):
    id: str
    name: str
    arguments: str  # JSON text, as the OpenAI API carries it


class Completion(BaseModel):
    text: str
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    latency_s: float = 0.0
    model_id: str
    cost_usd: float = 0.0
    cached: bool = False
    simulated: bool = False  # the reply says it was simulated (the sim, or serve-sim's mark on its body)
    served_model: str | None = None  # the model id the server returned (its `model` field), when it said
    sim_fingerprint: str | None = None  # serve-sim's fingerprint of the simulator that answered
    finish_reason: FinishReason = "stop"  # "length": cut at max_tokens; rows cached before it existed load as "stop"
    logprob: float | None = None  # mean log-probability of the reply's tokens, when the endpoint returned them

    @field_validator("finish_reason", mode="before")
    @classmethod
    def _known_reason(cls, value: object) -> str:
        return value if isinstance(value, str) and value in FINISH_REASONS else finish_reason_of(value)

    @property
    def truncated(self) -> bool:
        """The reply was cut at max_tokens (its end, and usually its final answer, is missing)."""
        return self.finish_reason == "length"


@runtime_checkable
class ChatModel(Protocol):
    """Anything that completes a chat. `sample` distinguishes n draws of the same call (cache key);
    `answer_key` is only read by simulated models and never reaches a real model's prompt.
    `response_format` asks for structured output in the OpenAI API's form (e.g. `{"type": "json_schema",
    "json_schema": {...}}`); backends that cannot constrain output ignore it, so callers validate anyway."""

    @property
    def model_id(self) -> str: ...

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
    ) -> Completion: ...

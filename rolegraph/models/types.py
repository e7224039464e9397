"""The model-layer contract: messages in, a `Completion` out, through any `ChatModel`."""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from rolegraph.items import AnswerKey

Message = dict[str, Any]
"""An OpenAI-style chat message: {"role": "system"|"user"|"assistant"|"tool", "content": str, ...}."""


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
    simulated: bool = False


@runtime_checkable
class ChatModel(Protocol):
    """Anything that completes a chat. `sample` distinguishes n draws of the same call (cache key);
    `answer_key` is only read by simulated models and never reaches a real model's prompt."""

    @property
    def model_id(self) -> str: ...

    async def complete(
        self,
        messages: list[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int = 512,
        seed: int = 0,
        tools: list[dict] | None = None,
        sample: int = 0,
        answer_key: AnswerKey | None = None,
    ) -> Completion: ...

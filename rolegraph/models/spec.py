"""`ModelSpec`: one entry of a model pool, with what the budget needs (size) and the bill needs (prices)."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Backend = Literal["openai", "sim", "local"]


class ModelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    backend: Backend
    base_url: str | None = None
    model: str | None = Field(default=None, description="name sent to the server (default: id after '/')")
    api_key_env: str | None = Field(default=None, description="NAME of the env var holding the key")
    params_b: float | None = Field(default=None, gt=0, description="parameters, billions")
    layers: int | None = Field(default=None, gt=0)
    hidden: int | None = Field(default=None, gt=0)
    price_in: float = Field(default=0.0, ge=0, description="dollars per 1M input tokens")
    price_out: float = Field(default=0.0, ge=0, description="dollars per 1M output tokens")
    context_window: int | None = Field(
        default=None,
        gt=0,
        description="tokens the model reads and writes per call; None = not stated (a server's own, e.g. "
        "llama.cpp's /props n_ctx, is asked for where it matters, else a default)",
    )
    max_concurrency: int = Field(default=8, gt=0)
    answer_key: bool = Field(default=False, description="send the sim answer key in the request body (serve-sim only)")
    sim_accuracy: dict[str, float] | None = Field(
        default=None, description="sim only: single-model accuracy per family, overriding the size interpolation"
    )

    @property
    def api_name(self) -> str:
        return self.model or self.id.split("/", 1)[-1]

    @property
    def simulated(self) -> bool:
        return self.backend == "sim"

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.price_in + output_tokens * self.price_out) / 1e6

    def key_present(self) -> bool:
        return self.api_key_env is None or bool(os.environ.get(self.api_key_env))

"""k samples of one call as one request with `n=k` (what coalesced nodes of one model ask for), learning once
per model whether the endpoint honours `n` and falling back to k plain requests, loudly, when it does not.

`NSamplingMixin` gives `OpenAIChatModel` its `complete_n`; `_NHost` names what it uses of the model."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, Protocol

import openai

from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import Completion, Message
from rolegraph.items import AnswerKey
from rolegraph.models.openai_errors import ModelCallError
from rolegraph.models.openai_replies import EXTRA_FIELD, n_completions

N_REFUSED = frozenset({400, 422})  # how servers without `n` refuse it (llama.cpp: "Field 'n': Value must be ...")


class _NHost(Protocol):
    """What `complete_n` uses of the model."""

    spec: ModelSpec
    n_support: bool | None

    def _loop_state(self) -> tuple[openai.AsyncOpenAI, asyncio.Semaphore]: ...

    def _request(
        self,
        messages: list[Message],
        temperature: float,
        max_tokens: int,
        seed: int,
        tools: list[dict] | None,
        sample: int,
        answer_key: AnswerKey | None,
    ) -> dict[str, Any]: ...

    async def _timed_retries(
        self, client: openai.AsyncOpenAI, body: dict[str, Any]
    ) -> tuple[dict[str, Any], float]: ...

    async def complete(
        self,
        messages: list[Message],
        *,
        temperature: float = ...,
        max_tokens: int = ...,
        seed: int = ...,
        tools: list[dict] | None = ...,
        sample: int = ...,
        answer_key: AnswerKey | None = ...,
        response_format: dict | None = ...,
    ) -> Completion: ...


class NSamplingMixin:
    """`complete_n` for `OpenAIChatModel` (the model supplies what `_NHost` lists)."""

    n_support: bool | None
    """Whether the endpoint returns k choices for `n=k` (None: not tried yet); the model sets it to None."""

    async def complete_n(
        self: _NHost,
        messages: list[Message],
        *,
        samples: Sequence[int],
        temperature: float = 0.0,
        max_tokens: int = 512,
        seed: int = 0,
        answer_key: AnswerKey | None = None,
    ) -> list[Completion]:
        """k samples of one call as one request with `n=k`, where the endpoint supports it.

        Support is learnt on the first try and kept (`n_support`): a 400/422 to the first `n` request, or fewer
        than k choices back (llama-cpp-python returns one), switches this model to k plain requests for good;
        choices that did come back are used. The prompt is billed once per request, so its tokens are shared
        among the k completions; each choice keeps its own output tokens.
        """
        samples = list(samples)
        kwargs: dict[str, Any] = {"temperature": temperature, "max_tokens": max_tokens, "seed": seed}
        if len(samples) < 2 or self.n_support is False:
            return await _separately(self, messages, samples, answer_key, kwargs)
        client, semaphore = self._loop_state()
        body = self._request(messages, temperature, max_tokens, seed, None, samples[0], answer_key)
        body["n"] = len(samples)
        if EXTRA_FIELD in body:
            body[EXTRA_FIELD]["samples"] = samples
        try:
            async with semaphore:  # released before any fallback: those calls take the semaphore themselves
                resp, latency = await self._timed_retries(client, body)  # the answering attempt's own time
        except ModelCallError as exc:
            # not yet known, or learnt meanwhile by a concurrent request that was refused first
            if self.n_support is not True and exc.status in N_REFUSED:
                _no_n(self, f"it refused n={len(samples)} with HTTP {exc.status}")
                return await _separately(self, messages, samples, answer_key, kwargs)
            raise
        got = n_completions(self.spec, resp, messages, latency, len(samples))
        if len(got) >= len(samples):
            self.n_support = True
            return got[: len(samples)]
        _no_n(self, f"it returned {len(got)} choice(s) for n={len(samples)}")
        rest = await _separately(self, messages, samples[len(got) :], answer_key, kwargs)
        return got + rest


def _no_n(model: _NHost, why: str) -> None:
    """Learn that the endpoint has no `n`, and say so once (a fallback is never silent)."""
    if model.n_support is not False:
        logging.getLogger(__name__).warning(
            "model '%s' at %s does not take n (%s): its coalesced samples go as separate requests",
            model.spec.id,
            model.spec.public_endpoint,
            why,
        )
    model.n_support = False


async def _separately(
    model: _NHost, messages: list[Message], samples: list[int], answer_key: AnswerKey | None, kwargs: dict[str, Any]
) -> list[Completion]:
    calls = (model.complete(messages, sample=s, answer_key=answer_key, **kwargs) for s in samples)
    return list(await asyncio.gather(*calls))

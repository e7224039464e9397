"""k samples of one call as requests with `n` (what coalesced nodes of one model ask for), learning per model the
largest `n` its endpoint answers in full, and falling back, loudly, to smaller requests or to k plain ones.

Endpoints differ: OpenAI and vLLM take `n` (up to their own maximum); llama.cpp's server takes `n` up to its number
of parallel slots and answers a larger one with HTTP 400 ("Field 'n': Value must be between 1 <= value <= 2, but
got 3"); llama-cpp-python ignores `n` and returns one choice. So support is not yes/no but a limit, learnt per model:
an `n` larger than any answered in full is a probe, sent by one caller at a time (concurrent callers wait for what
it teaches instead of each sending a request the server refuses), and a refused or short probe sets the limit.

Endpoints differ too in what the `usage` of an `n` reply counts: OpenAI, vLLM and serve-sim sum the choices' outputs;
llama.cpp's server reports the first choice's alone. The rule is learnt once per model with the limit
(`n_usage`, `_learn_usage`), from what the first reply in full proves, else from one tiny probe request, and every
later reply is read by it (`openai_replies.n_completions`), never guessed per reply.

A stop (in_flight.py) sends no part of a split call after it: the parts then ask `sending` in vain and end
`Unsent`, which is caught per part (`_kept`) so the parts that were sent still come back, and the call ends `Unsent`
carrying their completions by sample (`_joined`), for the layers above to count and cache.

What was learnt is also kept, by endpoint (URL and model name), in the `EndpointLessons` the model is given
(`endpoint_lessons`: its pool's, `ModelPool.lessons`), and a model starts from what is kept there: a hub closes and
remakes its models after every sync call, and each lesson cost requests the endpoint was paid for.

`NSamplingMixin` gives `OpenAIChatModel` its `complete_n`; `_NHost` names what it uses of the model."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Sequence
from typing import Any, Protocol

import openai

from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import DEFAULT_CALL_MAX_TOKENS, Completion, Message, Usage
from rolegraph.items import AnswerKey
from rolegraph.models.in_flight import Unsent
from rolegraph.models.openai_errors import CONTEXT_CAUSE, ModelCallError
from rolegraph.models.openai_replies import (
    EXTRA_FIELD,
    FIRST_CHOICE,
    completion_total,
    n_completions,
    note_shared_draws,
    served_by,
    usage_rule,
)
from rolegraph.models.pool import EndpointLessons, NLesson

N_REFUSED = frozenset({400, 422})  # how servers without `n` refuse it (llama.cpp: "Field 'n': Value must be ...")
ABOUT_N = re.compile(r"""['"`]n['"`]|\bn\s+must\b|\bcompletion choices?\b|\bchoices\b""", re.IGNORECASE)
"""A refusal that names `n`: OpenAI's "Invalid 'n'", llama.cpp's "Field 'n'" and "Only one completion choice is
allowed", vLLM's "n must be ...", serve-sim's "'n' must be". Any other 400/422 to a probe is checked by asking
for one sample alone (`_probe`): a pool mistake such as serve-sim's missing answer key must not read as "no n"."""
STATED_LIMIT = re.compile(r"(?:<=|\bbetween\s+\d+\s+and)\s*(\d+)")
"""The limit a refusal states: llama.cpp's "1 <= value <= 2" (any "<= N"), serve-sim's "between 1 and 128"."""
USAGE_PROBE: list[Message] = [{"role": "user", "content": "Count from 1 to 20."}]
"""The usage probe's prompt (`_usage_probe`): a few tokens, and an answer no model ends within one token."""
USAGE_PROBE_N = 2
USAGE_PROBE_MAX_TOKENS = 1
"""Two choices of one token each: both cut at `max_tokens`, so a summed usage says 2 and a first-choice one 1."""


class _NHost(Protocol):
    """What `complete_n` uses of the model."""

    spec: ModelSpec
    n_support: bool | None
    n_ok: int
    n_max: int | None
    n_usage: str | None
    endpoint_lessons: EndpointLessons | None
    _n_probe: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None

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
    """`complete_n` for `OpenAIChatModel` (the model supplies what `_NHost` lists).

    The learnt state has class-level defaults (immutable values; the first lesson sets the instance's own), so a
    model starts knowing nothing whatever its constructor sets."""

    n_support: bool | None
    """Whether the endpoint takes `n` at all: True once some `n` > 1 came back in full, False once it is known to
    take none, None before either (`n_ok` and `n_max` say how far)."""
    n_ok: int = 1
    """The largest `n` the endpoint has answered with all its choices (1: none yet)."""
    n_max: int | None = None
    """The largest `n` worth sending: None until one was refused or answered short, then what that taught (1: no
    `n` at all)."""
    n_usage: str | None = None
    """What the `usage` of the endpoint's `n` replies counts (`openai_replies.SUMMED` or `FIRST_CHOICE`): None until
    the first reply in full with a usage (`_learn_usage`), then fixed, so that every reply is billed alike."""
    endpoint_lessons: EndpointLessons | None = None
    """Where lessons outlive this model object (its pool's `EndpointLessons`, given by whoever makes the model);
    None: they last as long as the model."""
    _n_probe: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
    """The lock one probe at a time holds, with the event loop it belongs to (a lock binds to one loop)."""

    async def complete_n(
        self: _NHost,
        messages: list[Message],
        *,
        samples: Sequence[int],
        temperature: float = 0.0,
        max_tokens: int = DEFAULT_CALL_MAX_TOKENS,
        seed: int = 0,
        answer_key: AnswerKey | None = None,
    ) -> list[Completion]:
        """k samples of one call, as few requests as the endpoint allows: one with `n=k` where it takes k, else
        requests of the largest `n` it takes, else k plain requests.

        An `n` above `n_ok` is a probe, made under the model's probe lock: a 400/422 to it (not a context overflow)
        that names `n`, or that a plain request for the first sample then gets past, sets `n_max` to the limit the
        refusal states, else to `n_ok`, and the samples go again in smaller requests (a 400/422 that the plain
        request gets too is not about `n`: it is raised, as the calls would raise it); fewer choices than asked
        (llama-cpp-python returns one) sets `n_max` to what came back, and the choices that came are used. A
        refusal of an `n` already answered in full is not about `n` and is raised. The prompt's tokens are shared among
        a request's completions (every server here processes it once per request); the output tokens are read by
        the endpoint's usage rule, learnt with the first reply in full (`_learn_usage`, `openai_replies`)."""
        _recall(self)
        todo = list(samples)
        kwargs: dict[str, Any] = {"temperature": temperature, "max_tokens": max_tokens, "seed": seed}
        done: list[Completion] = []
        try:
            while _is_probe(self, _size(self, len(todo) - len(done))):
                async with _probe_lock(self):
                    left = todo[len(done) :]
                    size = _size(self, len(left))
                    if not _is_probe(self, size):  # a concurrent probe taught enough meanwhile
                        break
                    done += await _probe(self, messages, left[:size], answer_key, kwargs)
            rest = todo[len(done) :]
            size = max(1, _size(self, len(rest)))
            chunks = [rest[i : i + size] for i in range(0, len(rest), size)]
            parts = await asyncio.gather(*(_kept(_known(self, messages, c, answer_key, kwargs)) for c in chunks))
            return done + _joined(chunks, parts)
        except Unsent as stop:  # a stop: the probes' completions go up with the parts' (in_flight.py)
            raise Unsent(dict(zip(todo, done)) | stop.done) from None


def _key(model: _NHost) -> tuple[str, str]:
    """The endpoint a lesson is about: the URL calls go to and the model name sent there."""
    return model.spec.endpoint or "", model.spec.api_name


def _recall(model: _NHost) -> None:
    """Start from what the endpoint taught other model objects of the same pool (`endpoint_lessons`)."""
    if model.endpoint_lessons is None:
        return
    kept = model.endpoint_lessons.recall(*_key(model))
    if kept.n_max is not None and (model.n_max is None or kept.n_max < model.n_max):
        model.n_max = kept.n_max
    model.n_ok = max(model.n_ok, kept.n_ok)
    if model.n_max is not None:
        model.n_ok = min(model.n_ok, model.n_max)
    if model.n_usage is None and kept.n_usage is not None:
        model.n_usage = kept.n_usage
    _settle(model, keep=False)


def _size(model: _NHost, k: int) -> int:
    """How many of k samples one request should carry."""
    return k if model.n_max is None else min(k, model.n_max)


def _is_probe(model: _NHost, size: int) -> bool:
    return size >= 2 and size > model.n_ok


def _probe_lock(model: _NHost) -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    if model._n_probe is None or model._n_probe[0] is not loop:
        model._n_probe = (loop, asyncio.Lock())
    return model._n_probe[1]


async def _probe(
    model: _NHost, messages: list[Message], samples: list[int], answer_key: AnswerKey | None, kwargs: dict[str, Any]
) -> list[Completion]:
    """One request with an `n` not yet answered in full: the completions it gave (none if refused), and the lesson."""
    n = len(samples)
    try:
        got = await _send(model, messages, samples, answer_key, kwargs, locked=True)
    except ModelCallError as exc:
        if exc.status not in N_REFUSED or exc.cause == CONTEXT_CAUSE:
            raise
        alone: list[Completion] = []
        if not ABOUT_N.search(str(exc)):  # not worded as about `n`: it is, only if one sample alone is answered
            alone = await _separately(model, messages, samples[:1], answer_key, kwargs)  # raises as the calls would
        stated = STATED_LIMIT.search(str(exc))
        limit = int(stated.group(1)) if stated else 0
        _limit(model, limit if 1 <= limit < n else model.n_ok, f"it refused n={n} with HTTP {exc.status}")
        return alone
    if len(got) >= n:
        model.n_ok = max(model.n_ok, n)
        _settle(model)
    else:
        _limit(model, len(got), f"it returned {len(got)} choice(s) for n={n}")
    return got


async def _known(
    model: _NHost, messages: list[Message], samples: list[int], answer_key: AnswerKey | None, kwargs: dict[str, Any]
) -> list[Completion]:
    """Samples in one request of an `n` the endpoint has answered in full (one sample: a plain request); should it
    come back short all the same, the missing samples go as plain requests."""
    if len(samples) < 2:
        return await _separately(model, messages, samples, answer_key, kwargs)
    got = await _send(model, messages, samples, answer_key, kwargs, locked=False)
    try:
        return got + await _separately(model, messages, samples[len(got) :], answer_key, kwargs)
    except Unsent as stop:
        raise Unsent(dict(zip(samples, got)) | stop.done) from None


async def _kept(part: Awaitable[list[Completion]]) -> list[Completion] | Unsent:
    """A part's completions, or the `Unsent` a stop ended it with, returned rather than raised: a task (`gather`'s)
    ending in a `CancelledError` loses it, and the first one would drop the other parts' sent replies with it."""
    try:
        return await part
    except Unsent as stop:
        return stop


def _joined(chunks: list[list[int]], parts: Sequence[list[Completion] | Unsent]) -> list[Completion]:
    """The parts' completions in sample order; if a stop kept any part from being sent, `Unsent` carrying the
    completions, by sample, of those that were."""
    if not any(isinstance(part, Unsent) for part in parts):
        return [c for part in parts if not isinstance(part, Unsent) for c in part]
    done: dict[int, Completion] = {}
    for chunk, part in zip(chunks, parts):
        done |= part.done if isinstance(part, Unsent) else dict(zip(chunk, part))
    raise Unsent(done)


async def _send(
    model: _NHost,
    messages: list[Message],
    samples: list[int],
    answer_key: AnswerKey | None,
    kwargs: dict[str, Any],
    *,
    locked: bool,
) -> list[Completion]:
    """One request with `n = len(samples)`: at most that many completions, in the order of `samples`, read by the
    endpoint's usage rule (learnt from this reply if not yet known; `locked`: the caller holds the probe lock).
    Unless the reply is serve-sim's, which draws choice i for sample i, the choices are noted as shared draws
    (`SharedDraws`)."""
    client, semaphore = model._loop_state()
    temperature, max_tokens, seed = kwargs["temperature"], kwargs["max_tokens"], kwargs["seed"]
    body = model._request(messages, temperature, max_tokens, seed, None, samples[0], answer_key)
    body["n"] = len(samples)
    if EXTRA_FIELD in body:
        body[EXTRA_FIELD]["samples"] = samples
    async with semaphore:
        resp, latency = await model._timed_retries(client, body)  # the answering attempt's own time
    rule, probed = model.n_usage, Usage()  # a usage probe this call sent: billed to its first sample (`paid_usd`)
    if rule is None and completion_total(resp) is not None and len(resp["choices"]) >= 2:
        if locked:
            rule, probed = await _learn_usage(model, resp, kwargs)
        else:
            async with _probe_lock(model):
                rule = model.n_usage
                if rule is None:
                    rule, probed = await _learn_usage(model, resp, kwargs)
    got = n_completions(model.spec, resp, messages, latency, len(samples), max_tokens=max_tokens, rule=rule)
    if probed.total and got:
        usage = got[0].usage
        both = Usage(
            input_tokens=usage.input_tokens + probed.input_tokens,
            output_tokens=usage.output_tokens + probed.output_tokens,
        )
        cost = got[0].cost_usd + model.spec.cost(probed.input_tokens, probed.output_tokens)
        got[0] = got[0].model_copy(update={"usage": both, "cost_usd": cost})
    if not (EXTRA_FIELD in body and served_by(resp)["simulated"]):
        note_shared_draws(samples[: len(got)])
    return got


async def _learn_usage(model: _NHost, resp: dict[str, Any], kwargs: dict[str, Any]) -> tuple[str, Usage]:
    """Learn what the endpoint's `n` usage counts, once: from what this reply proves (`usage_rule`), else from one
    usage probe (`_usage_probe`). Should neither tell, the reply is read as llama.cpp's, one choice's usage (the
    other choices estimated), which never counts fewer tokens than were made, and the user is told. A stop that
    came while this reply was on the wire sends no probe: the reply is read that safe way, and nothing is learnt
    (a guess is no lesson: the next call probes). Returns the rule to read this reply by, and the probe's tokens."""
    rule, probed, stopped = usage_rule(resp, kwargs["max_tokens"]), Usage(), False
    if rule is None:
        try:
            rule, probed = await _usage_probe(model, kwargs)
        except Unsent:
            stopped = True
    if rule is None:
        logging.getLogger(__name__).warning(
            "model '%s' at %s: could not tell whether the usage of its n replies sums the choices or counts the "
            "first alone%s; counting it as the first choice's (the other choices estimated from their text), "
            "which may count high",
            model.spec.id,
            model.spec.public_endpoint,
            " (a stop kept its usage probe from being sent)" if stopped else "",
        )
        rule = FIRST_CHOICE
    if not stopped:
        model.n_usage = rule
        _settle(model)
    return rule, probed


async def _usage_probe(model: _NHost, kwargs: dict[str, Any]) -> tuple[str | None, Usage]:
    """The usage rule one tiny request tells (`USAGE_PROBE`: n=2, one token each, so both choices are cut at
    max_tokens and the two rules give 2 and 1), or None if it fails or its reply proves neither; and the tokens it
    was billed (its prompt, and every choice's one token), which the call that needed it pays. Sent once per model
    object, at most, when the first reply in full proved nothing."""
    client, semaphore = model._loop_state()
    body = model._request(USAGE_PROBE, kwargs["temperature"], USAGE_PROBE_MAX_TOKENS, kwargs["seed"], None, 0, None)
    body["n"] = USAGE_PROBE_N
    try:
        async with semaphore:
            resp, _ = await model._timed_retries(client, body)
    except ModelCallError:
        return None, Usage()
    prompt = (resp.get("usage") or {}).get("prompt_tokens")
    billed = Usage(
        input_tokens=prompt if isinstance(prompt, int) else 0,
        output_tokens=len(resp.get("choices") or []) * USAGE_PROBE_MAX_TOKENS,
    )
    return usage_rule(resp, USAGE_PROBE_MAX_TOKENS), billed


def _limit(model: _NHost, limit: int, why: str) -> None:
    """Learn the largest `n` worth sending, and say so when it is news (a fallback is never silent)."""
    limit = max(1, limit)
    if model.n_max is None or limit < model.n_max:
        takes = "does not take n" if limit == 1 else f"takes n up to {limit}"
        goes = "as separate requests" if limit == 1 else f"in requests of at most {limit}"
        logging.getLogger(__name__).warning(
            "model '%s' at %s %s (%s): its coalesced samples go %s",
            model.spec.id,
            model.spec.public_endpoint,
            takes,
            why,
            goes,
        )
        model.n_max = limit
    model.n_ok = min(model.n_ok, model.n_max)
    _settle(model)


def _no_n(model: _NHost, why: str) -> None:
    """Learn that the endpoint takes no `n` at all (`_limit` 1); tests of the warning's wording call it."""
    _limit(model, 1, why)


def _settle(model: _NHost, *, keep: bool = True) -> None:
    """Keep `n_support` (the yes/no view) in step with what was learnt, and (`keep`) the lesson in the pool's
    `endpoint_lessons`, for the model objects made after this one."""
    model.n_support = True if model.n_ok >= 2 else (False if model.n_max == 1 else None)
    if keep and model.endpoint_lessons is not None:
        model.endpoint_lessons.keep(*_key(model), NLesson(model.n_ok, model.n_max, model.n_usage))


async def _separately(
    model: _NHost, messages: list[Message], samples: list[int], answer_key: AnswerKey | None, kwargs: dict[str, Any]
) -> list[Completion]:
    """Samples as plain requests, one each (`_joined`: a stop ends it `Unsent` with those that were sent)."""

    async def one(sample: int) -> list[Completion]:
        return [await model.complete(messages, sample=sample, answer_key=answer_key, **kwargs)]

    return _joined([[s] for s in samples], await asyncio.gather(*(_kept(one(s)) for s in samples)))

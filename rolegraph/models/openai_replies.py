"""Reading an OpenAI-compatible reply: a choice as a `Completion`, the k choices of an `n=k` reply with the
prompt's tokens shared out where the server counts them once (each choice's in full where its usage is one
choice's) and each choice's own output counted, token estimates for servers that omit `usage`,
serve-sim's mark saying a reply was simulated, and the note a cache reads of which samples were shared draws."""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

from rolegraph.chat.spec import EXTRA_FIELD as EXTRA_FIELD  # re-exported: the backend's modules take it from here
from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import Completion, Message, ToolCall, Usage, finish_reason_of

CHARS_PER_TOKEN = 4  # usage estimate when a server omits `usage`


def served_by(data: dict[str, Any]) -> dict[str, Any]:
    """What the reply says answered: the server's `model` field, and serve-sim's mark on its own bodies
    (`"rolegraph": {"simulated": true, "fingerprint": ...}`); any other reply is real."""
    mark = data.get(EXTRA_FIELD)
    mark = mark if isinstance(mark, dict) else {}
    fingerprint = mark.get("fingerprint")
    served = data.get("model")
    return {
        "simulated": mark.get("simulated") is True,
        "served_model": served if isinstance(served, str) else None,
        "sim_fingerprint": fingerprint if isinstance(fingerprint, str) else None,
    }


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // CHARS_PER_TOKEN) if text else 0


def prompt_estimate(messages: list[Message]) -> int:
    return sum(estimate_tokens(str(m.get("content") or "")) for m in messages)


def split_total(total: int | None, weights: list[int]) -> list[int]:
    """`total` shared out in proportion to `weights` (whole tokens, summing to `total`); the weights themselves
    when the total is unknown."""
    if total is None:
        return list(weights)
    scale = sum(weights)
    if scale <= 0:
        weights, scale = [1] * len(weights), len(weights)
    shares = [total * w // scale for w in weights]
    for i in range(total - sum(shares)):
        shares[i % len(shares)] += 1
    return shares


def mean_logprob(raw: object) -> float | None:
    """The mean token log-probability of an OpenAI `logprobs` object (`{"content": [{"logprob": x}, ...]}`)."""
    content = raw.get("content") if isinstance(raw, dict) else None
    if not isinstance(content, list):
        return None
    values = [float(t["logprob"]) for t in content if isinstance(t, dict) and isinstance(t.get("logprob"), int | float)]
    return sum(values) / len(values) if values else None


def reply_completion(spec: ModelSpec, data: dict[str, Any], messages: list[Message], latency: float) -> Completion:
    """The first choice of a reply, with the server's usage (estimated when it gives none)."""
    usage = data.get("usage")
    choice = data["choices"][0]
    if isinstance(usage, dict):
        n_in, n_out = usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0
    else:
        n_in = prompt_estimate(messages)
        n_out = estimate_tokens(choice["message"].get("content") or "")
    return choice_completion(spec, choice, n_in, n_out, latency, data)


def choice_completion(
    spec: ModelSpec, choice: dict[str, Any], n_in: int, n_out: int, latency: float, data: dict[str, Any]
) -> Completion:
    """One choice of a reply as a Completion: its text, tool calls, tokens, cost and who served it."""
    message = choice["message"]
    text = message.get("content") or ""
    calls = [
        ToolCall.model_validate({"id": c.get("id"), "name": fn.get("name"), "arguments": fn.get("arguments") or ""})
        for c in (message.get("tool_calls") or [])
        if isinstance(c, dict) and isinstance(fn := c.get("function"), dict)
    ]
    return Completion(
        text=text,
        tool_calls=calls,
        usage=Usage(input_tokens=n_in, output_tokens=n_out),
        latency_s=latency,
        model_id=spec.id,
        cost_usd=spec.cost(n_in, n_out),
        **served_by(data),
        finish_reason=finish_reason_of(choice.get("finish_reason")),
        logprob=mean_logprob(choice.get("logprobs")),
    )


def n_completions(
    spec: ModelSpec,
    data: dict[str, Any],
    messages: list[Message],
    latency: float,
    k: int,
    *,
    max_tokens: int | None = None,
) -> list[Completion]:
    """The completions of an `n` reply: each choice's own output tokens (`choice_outputs`), and the prompt's tokens
    as the server counted them. OpenAI, vLLM and serve-sim count the prompt once for the k choices (it is read
    and billed once), so its tokens are shared out among them; llama.cpp's server gives the usage of the first
    choice alone, prompt included (its `prompt_tokens` is the prompt's length whatever `n` is), so sharing it
    out gave each of two nodes half its prompt and cost. Which one a reply is, is told as for the output tokens:
    a completion total smaller than what the choices evidently hold (`one_choice_usage`) is one choice's, and
    then each choice is given the whole prompt, as it would be alone."""
    choices = [c for c in data["choices"] if isinstance(c, dict) and isinstance(c.get("message"), dict)]
    choices.sort(key=lambda c: c.get("index", 0) if isinstance(c.get("index"), int) else 0)
    choices = choices[:k]
    raw_usage = data.get("usage")
    usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
    n_in = usage.get("prompt_tokens") or prompt_estimate(messages)
    total = usage.get("completion_tokens")
    outs = choice_outputs(data, choices, total, max_tokens)
    if one_choice_usage(total, choice_held(data, choices, max_tokens)):
        ins = [n_in] * len(choices)
    else:
        ins = split_total(n_in, [1] * len(choices))
    return [choice_completion(spec, c, i, o, latency, data) for c, i, o in zip(choices, ins, outs)]


def one_choice_usage(total: object, held: list[int]) -> bool:
    """Whether an `n` reply's `usage` is one choice's (llama.cpp's server): its completion total is a positive
    count smaller than what the choices evidently hold (`choice_held`). No total, or 0, says nothing: the prompt
    is then taken as counted once, the cheaper reading."""
    return isinstance(total, int) and not isinstance(total, bool) and 0 < total < sum(held)


def choice_outputs(
    data: dict[str, Any], choices: list[dict[str, Any]], total: object, max_tokens: int | None
) -> list[int]:
    """Each choice's output tokens, because servers disagree on what `usage.completion_tokens` of an `n` reply holds:
    OpenAI and vLLM give the sum over the choices; serve-sim the sum, plus each choice's count in its extra field
    `choice_tokens`; llama.cpp's server (checked on xllamacpp's build) only the first choice's count, so splitting
    its total undercounted every choice after the first (two 48-token choices were stored as 33 and 15).

    What a choice evidently holds: serve-sim's count; else its log-probability entries (one per token; servers
    send them when `logprobs` was asked, llama.cpp included); else `max_tokens` when it was cut there
    (`finish_reason: length`); else an estimate from its text (`estimate_tokens`, as for replies without `usage`).
    The server's total is shared out in those proportions only when it is at least their sum (it may count tokens
    the text does not show, e.g. reasoning); a total smaller than what the k choices evidently hold is a one-choice
    count and is not trusted."""
    held = choice_held(data, choices, max_tokens)
    if isinstance(total, int) and not isinstance(total, bool) and total >= sum(held):
        return split_total(total, held)
    return held


def choice_held(data: dict[str, Any], choices: list[dict[str, Any]], max_tokens: int | None) -> list[int]:
    """What each choice evidently holds, in tokens (see `choice_outputs`)."""
    extra = data.get(EXTRA_FIELD)
    listed = extra.get("choice_tokens") if isinstance(extra, dict) else None
    counted = listed if isinstance(listed, list) and len(listed) >= len(choices) else None
    held: list[int] = []
    for i, choice in enumerate(choices):
        content = choice["logprobs"].get("content") if isinstance(choice.get("logprobs"), dict) else None
        if counted is not None and isinstance(counted[i], int):
            held.append(int(counted[i]))
        elif isinstance(content, list) and content:
            held.append(len(content))
        elif max_tokens is not None and choice.get("finish_reason") == "length":
            held.append(max_tokens)
        else:
            held.append(estimate_tokens(choice["message"].get("content") or ""))
    return held


class SharedDraws:
    """The samples a `complete_n` answered with choices of one `n` request that differ from what a request for that
    sample alone draws. Only serve-sim draws choice i exactly as a request for sample i (it reads each choice's
    sample index from the body); a real endpoint seeds the choices of one request its own way (llama.cpp's choice i
    is what a request with the seed plus i draws; OpenAI and vLLM have schemes of their own), never with the
    per-sample seeds the plain requests carry (`request_seed`). A cache sets one in `SHARED_DRAWS` around its call
    and stores those samples apart from per-sample calls, so a later uncoalesced run is never served a draw it did
    not make. A context variable, because the wrappers between the cache and the backend (spend guard, counter)
    pass only completions up."""

    def __init__(self) -> None:
        self.samples: set[int] = set()


SHARED_DRAWS: ContextVar[SharedDraws | None] = ContextVar("rolegraph_shared_draws", default=None)
"""The `SharedDraws` of the cache call in progress in this task (None: nobody asked)."""


def note_shared_draws(samples: Iterable[int]) -> None:
    """Tell the cache call in progress, if any, that these samples were shared draws."""
    record = SHARED_DRAWS.get()
    if record is not None:
        record.samples.update(samples)

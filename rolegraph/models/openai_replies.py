"""Reading an OpenAI-compatible reply: a choice as a `Completion`, the k choices of an `n=k` reply with the
prompt's tokens shared out, token estimates for servers that omit `usage`, and serve-sim's mark saying a
reply was simulated."""

from __future__ import annotations

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
    spec: ModelSpec, data: dict[str, Any], messages: list[Message], latency: float, k: int
) -> list[Completion]:
    """The completions of an `n` reply: the prompt's tokens shared out, each choice's own output tokens (the
    server's per-choice counts when it gives them, else its total split by reply length)."""
    choices = [c for c in data["choices"] if isinstance(c, dict) and isinstance(c.get("message"), dict)]
    choices.sort(key=lambda c: c.get("index", 0) if isinstance(c.get("index"), int) else 0)
    choices = choices[:k]
    texts = [c["message"].get("content") or "" for c in choices]
    raw_usage = data.get("usage")
    usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
    n_in = usage.get("prompt_tokens") or prompt_estimate(messages)
    extra = data.get(EXTRA_FIELD)
    per_choice = extra.get("choice_tokens") if isinstance(extra, dict) else None
    if isinstance(per_choice, list) and len(per_choice) >= len(choices):
        outs = [int(t) for t in per_choice[: len(choices)]]
    else:
        outs = split_total(usage.get("completion_tokens"), [estimate_tokens(t) for t in texts])
    ins = split_total(n_in, [1] * len(choices))
    return [choice_completion(spec, c, i, o, latency, data) for c, i, o in zip(choices, ins, outs)]

"""Reading an OpenAI-compatible reply: a choice as a `Completion`, the k choices of an `n=k` reply (the prompt
counted once per request and shared among them; each choice's output by the endpoint's usage rule, `SUMMED` or
`FIRST_CHOICE`, and what a reply proves of it, `usage_rule`), token estimates for servers that omit `usage`,
serve-sim's mark saying a reply was simulated, and the note a cache reads of which samples were shared draws."""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

from rolegraph.chat.spec import EXTRA_FIELD as EXTRA_FIELD  # re-exported: the backend's modules take it from here
from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import Completion, Message, ToolCall, Usage, finish_reason_of
from rolegraph.models.tokens import text_tokens

CHARS_PER_TOKEN = 4  # usage estimate when a server omits `usage`
UNBOUNDED = 1 << 62  # the most tokens a choice without a known `max_tokens` can be counted as
SUMMED = "summed"
"""An `n` reply's usage counts the prompt once and sums the choices' outputs (OpenAI, vLLM, serve-sim)."""
FIRST_CHOICE = "first-choice"
"""An `n` reply's usage is its first choice's alone: the prompt once, choice 0's output (llama.cpp's server)."""


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
    rule: str | None = None,
) -> list[Completion]:
    """The completions of an `n` reply, its usage read by the endpoint's `rule` (`SUMMED` or `FIRST_CHOICE`, learnt
    once per endpoint by `openai_sampling`; None: what this reply proves, `usage_rule`, else `SUMMED`, the reading
    OpenAI documents). The rule is the endpoint's, not guessed per reply: guessed from the choices' text length,
    one llama.cpp reply was billed as a sum and the next as one choice's, and a choice's tokens vanished.

    The prompt is counted once per request and shared among the choices, whatever the rule, because that is what
    every server here processes and bills: OpenAI and vLLM bill it once; llama.cpp's server evaluates it once and
    gives each choice's slot a copy (its `/metrics` `prompt_tokens_total` grows by the prompt once for n=2) and
    reports it once. For a self-hosted server the pool's prices are the user's own stand-in for compute, so the
    compute done is what is charged (and FLOPs follow the same tokens): k nodes cost one prompt plus their outputs,
    never less. Each choice's output tokens: `choice_outputs`."""
    choices = reply_choices(data)[:k]
    raw_usage = data.get("usage")
    usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
    n_in = usage.get("prompt_tokens") or prompt_estimate(messages)
    if rule is None:
        rule = usage_rule(data, max_tokens) or SUMMED
    outs = choice_outputs(data, choices, completion_total(data), max_tokens, rule)
    ins = split_total(n_in, [1] * len(choices))
    return [choice_completion(spec, c, i, o, latency, data) for c, i, o in zip(choices, ins, outs)]


def reply_choices(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The well-formed choices of a reply, in `index` order."""
    choices = [c for c in data.get("choices") or [] if isinstance(c, dict) and isinstance(c.get("message"), dict)]
    choices.sort(key=lambda c: c.get("index", 0) if isinstance(c.get("index"), int) else 0)
    return choices


def completion_total(data: dict[str, Any]) -> int | None:
    """The reply's `usage.completion_tokens` when it is a count (None: no usage, or not a number)."""
    usage = data.get("usage")
    total = usage.get("completion_tokens") if isinstance(usage, dict) else None
    return total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else None


def usage_rule(data: dict[str, Any], max_tokens: int | None) -> str | None:
    """What this `n` reply proves its usage is: `SUMMED`, `FIRST_CHOICE`, or None when its counts fit both (or
    neither). Each choice's tokens are bounded (`choice_bounds`); a summed total lies within the sum of the bounds,
    a first-choice total within choice 0's. With every choice cut at `max_tokens` the two are k x max_tokens and
    max_tokens, which is why `openai_sampling`'s usage probe asks for one token of two choices; a total above
    max_tokens is a sum, and one below it beside a choice cut at max_tokens is one choice's."""
    total = completion_total(data)
    choices = reply_choices(data)
    if total is None or len(choices) < 2:
        return None
    bounds = [choice_bounds(data, i, c, max_tokens) for i, c in enumerate(choices)]
    summed = sum(lo for lo, _ in bounds) <= total <= sum(hi for _, hi in bounds)
    first = bounds[0][0] <= total <= bounds[0][1]
    if summed == first:
        return None
    return SUMMED if summed else FIRST_CHOICE


def choice_bounds(data: dict[str, Any], i: int, choice: dict[str, Any], max_tokens: int | None) -> tuple[int, int]:
    """The least and most output tokens choice `i` can have been counted as: serve-sim's own count exactly;
    `max_tokens` exactly when cut there; its log-probability entries give or take one (whether the end token is
    among them differs by server); else at least one token if it shows anything, at most `max_tokens`."""
    counted = _sim_counts(data, 1 + i)
    if counted is not None:
        return counted[i], counted[i]
    cap = max_tokens if max_tokens is not None else UNBOUNDED
    if max_tokens is not None and choice.get("finish_reason") == "length":
        return max_tokens, max_tokens
    entries = _logprob_entries(choice)
    if entries:
        return entries - 1, min(cap, entries + 1)
    shows = bool(_choice_text(choice))
    return int(shows), cap


def choice_outputs(
    data: dict[str, Any], choices: list[dict[str, Any]], total: int | None, max_tokens: int | None, rule: str = SUMMED
) -> list[int]:
    """Each choice's output tokens. Servers disagree on what `usage.completion_tokens` of an `n` reply holds, so the
    endpoint's `rule` says: `SUMMED` (OpenAI, vLLM, serve-sim: the sum over the choices) or `FIRST_CHOICE`
    (llama.cpp's server, checked on xllamacpp's build: choice 0's count alone, its end token included).

    FIRST_CHOICE: choice 0 gets the total exactly; each other choice what it evidently holds (`choice_held`).
    SUMMED: a total at least what the choices evidently hold is shared out in those proportions (it may count
    tokens the text does not show, e.g. reasoning); a smaller one keeps the exactly known counts (serve-sim's, the
    log-probability entries, a cut at `max_tokens`) and shares the rest among the estimated choices, and only a
    total below the exact counts themselves is not trusted (the evident counts are used). No total: the evident
    counts."""
    held = choice_held(data, choices, max_tokens)
    if total is None or not held:
        return held
    if rule == FIRST_CHOICE:
        return [total, *held[1:]]
    if total >= sum(held):
        return split_total(total, held)
    exact = [_exact(data, i, c, max_tokens) for i, c in enumerate(choices)]
    rest = total - sum(h for h, known in zip(held, exact) if known)
    guessed = [i for i, known in enumerate(exact) if not known]
    if rest < 0 or not guessed:
        return held
    out = list(held)
    for i, share in zip(guessed, split_total(rest, [held[i] for i in guessed])):
        out[i] = share
    return out


def choice_held(data: dict[str, Any], choices: list[dict[str, Any]], max_tokens: int | None) -> list[int]:
    """What each choice evidently holds, in tokens: serve-sim's count; else its log-probability entries (one per
    token; servers send them when `logprobs` was asked, llama.cpp included); else `max_tokens` when it was cut there
    (`finish_reason: length`); else an estimate from its text and tool calls by their shape (`tokens.text_tokens`,
    digit-aware: `len(text) // 4` counted a digit-heavy SmolLM2 reply at a third of its tokens), plus the end token
    a choice that stopped sampled (llama.cpp counts it: a "Yes" that stopped is 2 tokens), never more than
    `max_tokens`."""
    counted = _sim_counts(data, len(choices))
    held: list[int] = []
    for i, choice in enumerate(choices):
        entries = _logprob_entries(choice)
        if counted is not None:
            held.append(counted[i])
        elif entries:
            held.append(entries)
        elif max_tokens is not None and choice.get("finish_reason") == "length":
            held.append(max_tokens)
        else:
            guess = text_tokens(_choice_text(choice)) + (choice.get("finish_reason") == "stop")
            held.append(guess if max_tokens is None else min(max_tokens, guess))
    return held


def _exact(data: dict[str, Any], i: int, choice: dict[str, Any], max_tokens: int | None) -> bool:
    """Whether `choice_held` knows choice i's count rather than estimating it."""
    cut = max_tokens is not None and choice.get("finish_reason") == "length"
    return _sim_counts(data, 1 + i) is not None or bool(_logprob_entries(choice)) or cut


def _sim_counts(data: dict[str, Any], k: int) -> list[int] | None:
    """serve-sim's per-choice output counts (its extra field `choice_tokens`), when it lists at least k."""
    extra = data.get(EXTRA_FIELD)
    listed = extra.get("choice_tokens") if isinstance(extra, dict) else None
    if not isinstance(listed, list) or len(listed) < k:
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in listed[:k]):
        return None
    return [int(n) for n in listed]


def _logprob_entries(choice: dict[str, Any]) -> int:
    """How many log-probability entries a choice carries (0: none)."""
    content = choice["logprobs"].get("content") if isinstance(choice.get("logprobs"), dict) else None
    return len(content) if isinstance(content, list) else 0


def _choice_text(choice: dict[str, Any]) -> str:
    """A choice's text and its tool calls' names and arguments: what its output tokens spelt."""
    message = choice["message"]
    parts = [str(message.get("content") or "")]
    for call in message.get("tool_calls") or []:
        fn = call.get("function") if isinstance(call, dict) else None
        if isinstance(fn, dict):
            parts += [str(fn.get("name") or ""), str(fn.get("arguments") or "")]
    return "".join(parts)


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

"""Attempts abandoned at their model's `timeout_s`: counted, said once per model and run, held under a dollar cap.

Why a timed-out attempt is more than a retry: the server never learns the client stopped waiting. llama.cpp's
server (SmolLM2, 1 thread) went on generating a 768-token reply for 123.5 s, past the 120 s default timeout, while
the retry policy sent the same request again; paid endpoints generally bill a generation the client stopped
waiting for. Its reply never came, so its tokens and dollars were in no count, and nothing was said: the run
looked merely slow and reported less than it may have cost. So the OpenAI-compatible backend hands every
timed-out attempt to `note_timed_out`, which counts it in the run's `CallStats.timed_out` (by model id; its worst
case in `timed_out_usd`), says the first of each model in the run in one `TimedOutWarning` line, and holds its
worst case under the run's spend guard (`hold_abandoned`).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from typing import Any, Protocol

from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import DEFAULT_CALL_MAX_TOKENS, Message
from rolegraph.errors import RolegraphError, RolegraphWarning
from rolegraph.models.in_flight import CallStats, SpendGuard
from rolegraph.models.tokens import text_tokens


class TimedOutWarning(RolegraphWarning):
    """A model's request timed out and was abandoned (and, mostly, sent again): said once per model and run, as
    the endpoint may bill the abandoned request and no count of tokens or dollars holds it."""


class TimeoutBooks(Protocol):
    """Where a backend keeps its timed-out attempts: the run's stats and spend guard (a `ModelHub` has both, as
    has a Ray chunk's allowance; `_Guarded` hands the backend it wraps its hub)."""

    stats: CallStats
    spend_guard: SpendGuard | None


@dataclass
class OwnBooks:
    """The books of a backend used without a hub: it still counts its timed-out attempts and says the first."""

    stats: CallStats = field(default_factory=CallStats)
    spend_guard: SpendGuard | None = None


def request_body(exc: BaseException) -> dict[str, Any]:
    """The JSON body of the request `exc` failed (the client's exceptions carry their request), or {}: read there,
    the one retry policy (`OpenAIChatModel._retrying`) needs no body handed to it, for calls and stream openings."""
    try:
        body = json.loads(exc.request.content)  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError, ValueError, TypeError):
        return {}
    return body if isinstance(body, dict) else {}


def _sizes(body: dict[str, Any]) -> tuple[list[Message], int, int]:
    """(messages, max_tokens, choices) of a request body."""
    messages = body.get("messages")
    max_tokens, n = body.get("max_tokens"), body.get("n")
    return (
        messages if isinstance(messages, list) else [],
        max_tokens if isinstance(max_tokens, int) else DEFAULT_CALL_MAX_TOKENS,
        n if isinstance(n, int) and n > 0 else 1,
    )


def worst_case_tokens(body: dict[str, Any]) -> tuple[int, int]:
    """(prompt, output) tokens an abandoned request may be billed at most: its prompt by shape (`tokens.py`, which
    errs high) and `max_tokens` of output for each of its choices."""
    messages, max_tokens, n = _sizes(body)
    prompt = sum(text_tokens(str(m.get("content") or "")) for m in messages if isinstance(m, dict))
    return prompt, n * max_tokens


def timed_out_line(spec: ModelSpec, timeout_s: float, retried: bool, worst_tokens: int) -> str:
    """The warning's text: the model, the `timeout_s` it hit and how to raise it, and what the attempt may cost (in
    tokens: dollars are the run's stats', `CallStats.timed_out_usd`, as this layer formats no money)."""
    where = f" at {spec.public_endpoint}" if spec.public_endpoint else ""
    then = "was sent again" if retried else "its call failed"
    return (
        f"model '{spec.id}'{where}: a request timed out after {timeout_s:g} s and {then}; if its replies take that "
        f"long, raise `timeout_s` in its pool entry. The endpoint may still bill the abandoned request (up to "
        f"{worst_tokens:,} tokens), which the tokens and dollars reported leave out (said once per model; the "
        f"run's stats count every one)"
    )


def note_timed_out(books: TimeoutBooks, spec: ModelSpec, body: dict[str, Any], timeout_s: float, retried: bool) -> None:
    """One attempt of `spec` abandoned at `timeout_s` (`retried`: the call sends it again): counted in the books'
    stats, said if it is the model's first there (the warning is a `RolegraphWarning`: the CLI prints it as one
    `warning:` line, a Python caller filters it as any warning), and held under their spend guard."""
    stats = books.stats
    first = spec.id not in stats.timed_out
    stats.timed_out[spec.id] = stats.timed_out.get(spec.id, 0) + 1
    prompt, output = worst_case_tokens(body)
    stats.timed_out_usd += spec.cost(prompt, output)
    if first:
        warnings.warn(TimedOutWarning(timed_out_line(spec, timeout_s, retried, prompt + output)), stacklevel=2)
    hold_abandoned(books.spend_guard, spec, body, retried)


def hold_abandoned(guard: SpendGuard | None, spec: ModelSpec, body: dict[str, Any], retried: bool) -> None:
    """Reserve an abandoned request's worst case with the spend guard (`--max-dollars`) for the rest of the run:
    never released, so the cap counts it as spent.

    Why hold it: the guard reserved one worst case for the call, which covers one request on the wire. A timed-out
    attempt re-sent puts a second on the wire while the first may still be billed, and when the call ends its one
    reservation is released while only the answering request's dollars are counted: a run whose calls time out
    could pass the cap with dollars the meter never sees. The real bill of the abandoned request is unknowable
    (a local server bills nothing; its worst case at a free model's prices is $0, so nothing is held), so its
    worst case is held: a cap errs on the side of stopping early, never of spending past it.

    Refused (the cap cannot hold it), a retry is not sent: the refusal is raised in place of the retry, and the
    guard's own refusal stops the run's later calls. A last attempt that timed out keeps its timeout as its call's
    error (the call fails either way; the guard's refusal still stops what follows)."""
    if guard is None:
        return
    messages, max_tokens, n = _sizes(body)
    try:
        for _ in range(n):  # one reservation per choice, as a coalesced call's guard holds them
            guard.reserve(spec, messages, max_tokens)
    except RolegraphError:
        if retried:
            raise

"""How an OpenAI-compatible call fails: the errors the backend raises, which failures are worth retrying,
the server's Retry-After, and a short cause (refused, timeout, auth, context, ...) callers can act on
without parsing messages."""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import openai

from rolegraph.errors import RolegraphError

RETRYABLE_4XX = frozenset({408, 429})  # request timeout, rate limit
FINAL_5XX = frozenset({501, 505})
"""Not implemented, HTTP version not supported: the server will answer the same however often it is asked
(a proxy or web server without the API's route), so these fail at once like other 4xx."""

Sleep = Callable[[float], Awaitable[None]]
"""What waits between attempts (asyncio.sleep; tests pass a recorder)."""


CONTEXT_CAUSE = "context"
"""`ModelCallError.cause` of a prompt longer than the model's context: the request's fault, not the upstream's."""


class ModelCallError(RolegraphError):
    """A model call failed for good: a non-retryable status, or every attempt failed.

    `status` is the HTTP status (None without a response); `cause` a short category (`FailureCause`)
    so callers can tell a prompt that does not fit (`context`, final: asking again cannot help) from an
    unreachable endpoint or a bad key without parsing the message."""

    def __init__(self, message: str, *, status: int | None = None, cause: str = "error"):
        super().__init__(message)
        self.status = status
        self.cause = cause


class MalformedResponseError(Exception):
    """The server answered 200 with something that is not a usable chat completion (retryable)."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (openai.APIConnectionError, MalformedResponseError)):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        return status in RETRYABLE_4XX or (status >= 500 and status not in FINAL_5XX)
    return False


CONTEXT_CODES = frozenset({"context_length_exceeded", "exceed_context_size_error", "context_window_exceeded"})
"""Error codes/types servers give a prompt that does not fit: OpenAI, llama.cpp's server, others."""
_CONTEXT_TEXT = re.compile(r"context (length|size|window)|maximum context|too many tokens|prompt is too long", re.I)
CONTEXT_STATUSES = frozenset({400, 413, 422})


def error_fields(exc: openai.APIStatusError) -> dict[str, Any]:
    body = exc.body
    inner = body.get("error", body) if isinstance(body, dict) else None
    return inner if isinstance(inner, dict) else {}


def says_context_exceeded(fields: dict[str, Any], message: str = "") -> bool:
    """An error body's fields (`{"code", "type", "message"}`) say the prompt does not fit the context. Shared
    by the HTTP backend and the in-process llama.cpp engine, which answers with the same error object."""
    if {str(fields.get("code")), str(fields.get("type"))} & CONTEXT_CODES:
        return True
    return bool(_CONTEXT_TEXT.search(str(fields.get("message") or message)))


_ASKED = re.compile(r"request \((\d+) tokens\)|resulted in (\d+) tokens|\((\d+) in the messages", re.I)
"""The prompt tokens of a refused request, as servers say it: llama.cpp "request (1651 tokens) exceeds ...", OpenAI
"your messages resulted in 9000 tokens", vLLM "you requested 8300 tokens (7800 in the messages, 500 in the
completion)" (the messages' part: the total counts the completion's budget too)."""
_HOLDS = re.compile(r"context size \((\d+) tokens\)|maximum context length is (\d+) tokens", re.I)
"""The context a server says it has: llama.cpp "the available context size (1024 tokens)", OpenAI and vLLM
"This model's maximum context length is 8192 tokens"."""
CONTEXT_REFUSED = "context exceeded: "
"""The words every refusal of a prompt past the context starts with (`context_refused`), whatever the backend."""
WRONG_WINDOW = "is wrong for this server"
"""The words of `context_refused`'s verdict that a model's context window is larger than its server's context:
the one refusal whose cure is the pool file (`failure_advice`)."""


def _stated(pattern: re.Pattern[str], text: str, field: object) -> int | None:
    """A count the error body gives as a field (llama.cpp's `n_prompt_tokens`, `n_ctx`), else in its message."""
    if isinstance(field, int) and not isinstance(field, bool) and field > 0:
        return field
    found = pattern.search(text)
    return int(next(g for g in found.groups() if g)) if found else None


def context_refused(detail: str, window: int | None, fields: dict[str, Any] | None = None) -> str:
    """The text of a refusal for a prompt past the context: "context exceeded: " and the server's `detail`, and,
    when the model has a context window (`window`: its pool entry's, or what its server stated as a search
    started), what the refusal shows of it. Only a server context known to be smaller than the window makes the
    window wrong (the search space admitted graphs by it: correcting the pool file is the cure); a prompt longer
    than the window is named as such (not "than the search estimated": `run`, `eval` and `serve` run none);
    anything else is the server's words alone. The counts are the server's (`fields`: llama.cpp's
    `n_prompt_tokens`, `n_ctx`), else read from its message."""
    fields = fields or {}
    text = f"{CONTEXT_REFUSED}{detail}"
    if window is None:
        return text
    asked = _stated(_ASKED, detail, fields.get("n_prompt_tokens"))
    holds = _stated(_HOLDS, detail, fields.get("n_ctx"))
    if holds is not None and holds < window:
        prompt = f"a prompt of {asked} tokens" if asked is not None else "a prompt"
        return (
            f"{text} (the model's context window {window} {WRONG_WINDOW}: it refused {prompt} that the window "
            f"holds; its context is {holds} tokens; set context_window to {holds} in the pool file)"
        )
    if asked is not None and asked > window:
        return f"{text} (the prompt, {asked} tokens, is longer than the model's context window of {window})"
    return text


RESUME_ADVICE = "fix the cause and continue with --resume"
CONTEXT_ADVICE = (
    "correct the model's context_window in the pool file and start the search again (a run resumes only with a "
    "pool file changed in nothing but timeout_s or max_retries; the calls already answered are not paid again: "
    "they come from the response cache)"
)
TIMED_OUT = "timed out after"
"""How a failed call's message names an attempt abandoned at its `timeout_s` (`OpenAIChatModel._describe`)."""
TIMED_OUT_CALL = re.compile(rf"call failed after \d+ attempts?: {TIMED_OUT} ")
"""How a call that failed because its every attempt timed out ends (`OpenAIBackend`'s failure text)."""
TIMEOUT_ADVICE = (
    "if the model's replies take that long, raise its timeout_s in the pool file (a resume accepts a pool file "
    "changed only in timeout_s or max_retries), else fix the cause; then continue with --resume"
)
"""Advice for a call whose attempts all timed out: the seeded step sends the same requests again, so on a slow
endpoint a resume with the same `timeout_s` times out again (it did: SmolLM2 on llama.cpp at `timeout_s: 3`);
the resume takes the pool file with a higher one (`optimize.input_files.REQUEST_SETTINGS`)."""


TOO_LONG_ADVICE = (
    "--resume would send the same prompt and be refused again: shorten or leave out the task's longest items, "
    "give the node less to read (fewer or smaller nodes before it, lower max_tokens), or use a model with a larger "
    "context window (declared as context_window in its pool entry, so that searchers' evidence is trimmed to it), "
    "and start the search again"
)
"""Advice for a prompt refused as too long by a model whose window is right (or unknown): the step replays the
same items with the same seeds, so `--resume` would only be refused again (it was: a search on SmolLM2's 2,048
tokens stopped on a long question, and stopped again on every resume)."""


def failure_advice(error: str) -> str:
    """What a user stopped by a failed call should do: `--resume` once the cause is fixed, except for a prompt
    refused as longer than the model's context (`context_refused`'s `CONTEXT_REFUSED`), which a resume sends again:
    for a context window larger than the server's (`WRONG_WINDOW`) the cure is the pool file, which a resume
    refuses to see changed (`CONTEXT_ADVICE`); otherwise the items, the graph or the model (`TOO_LONG_ADVICE`).
    A call that timed out may need a higher `timeout_s`, which a resume accepts (`TIMEOUT_ADVICE`)."""
    if WRONG_WINDOW in error:
        return CONTEXT_ADVICE
    if CONTEXT_REFUSED in error:
        return TOO_LONG_ADVICE
    return TIMEOUT_ADVICE if TIMED_OUT_CALL.search(error) else RESUME_ADVICE


def context_exceeded_error(
    model_id: str,
    detail: str,
    status: int | None = None,
    *,
    declared: int | None = None,
    fields: dict[str, Any] | None = None,
) -> ModelCallError:
    """The one-line, final error of a prompt that does not fit (`cause="context"`), worded alike for every
    backend (`context_refused`; `declared`: the model's pool `context_window`, if any): callers (the CLI, serve,
    the LLM feedback agent's fallback) act on `cause`, people read the text."""
    where = f"HTTP {status}: " if status is not None else ""
    return ModelCallError(
        f"model '{model_id}' call failed: {where}{context_refused(detail, declared, fields)}",
        status=status,
        cause=CONTEXT_CAUSE,
    )


def is_context_exceeded(exc: BaseException) -> bool:
    """The server refused the request because prompt (+ max_tokens) exceeds the model's context."""
    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in CONTEXT_STATUSES:
        return False
    return says_context_exceeded(error_fields(exc), exc.message)


def is_refused(exc: BaseException) -> bool:
    """A connection error whose root is a refused TCP connection (nothing listens at the address)."""
    seen: BaseException | None = exc
    for _ in range(8):  # the chain: openai.APIConnectionError <- httpx.ConnectError <- OSError
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError) or "connection refused" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def failure_cause(exc: BaseException) -> str:
    """A short category of a failed call: refused, connection, timeout, auth, context, http, malformed."""
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "refused" if is_refused(exc) else "connection"
    if isinstance(exc, MalformedResponseError):
        return "malformed"
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code in (401, 403):
            return "auth"
        return CONTEXT_CAUSE if is_context_exceeded(exc) else "http"
    return "error"


def retry_after_s(exc: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (`retry-after-ms`, or `Retry-After` as seconds or an HTTP date)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    try:
        if ms is not None:
            return max(0.0, float(ms) / 1000)
    except ValueError:
        pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())

"""Counting the transport attempts behind a caller's model calls.

A caller sees one reply or one error, and cannot tell that the backend's retry policy re-sent timed-out
attempts before it: the LLM feedback agent's steps took minutes that way and said nothing. Inside
`watch_attempts` the OpenAI-compatible backend counts each attempt it makes for the calling task.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class CallAttempts:
    """Requests the calls under `watch_attempts` sent (`sent`: answered ones; `failed`: how each failed one
    failed). Why: a caller sees one reply or one error, and cannot tell that the backend re-sent timed-out
    attempts before it (the LLM feedback agent's steps took minutes so, and said nothing)."""

    sent: int = 0
    failed: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.sent + len(self.failed)


CALL_ATTEMPTS: ContextVar[CallAttempts | None] = ContextVar("rolegraph_call_attempts", default=None)
"""Set only inside `watch_attempts`, per task (a context variable: no state shared between callers); the
OpenAI-compatible backend counts its attempts into it."""


@contextmanager
def watch_attempts() -> Iterator[CallAttempts]:
    """Count the transport attempts of the calls this task makes inside the block, through any model wrapper."""
    seen = CallAttempts()
    token = CALL_ATTEMPTS.set(seen)
    try:
        yield seen
    finally:
        CALL_ATTEMPTS.reset(token)


SINGLE_ATTEMPT: ContextVar[bool] = ContextVar("rolegraph_single_attempt", default=False)
"""Set inside `single_attempt`: the OpenAI-compatible backend tries each call once, whatever its retry policy."""


@contextmanager
def single_attempt() -> Iterator[None]:
    """The calls this task makes inside the block are tried once: for a call whose failure is itself the answer
    (the structured-output probe: a server refusing a form with a 500, as llama-cpp-python's does, would otherwise
    be re-sent six times over ~15 s of backoff before the next form is tried)."""
    token = SINGLE_ATTEMPT.set(True)
    try:
        yield
    finally:
        SINGLE_ATTEMPT.reset(token)

"""Searchers' evidence cut to the context window of the node that reads it, at run time, and said so.

Why at run time: the search's context check (`optimize.space_context`) counts a searcher's evidence at the
searcher's `max_tokens`, not at its worst (six hits of up to `MAX_HIT_CHARS` characters each, ~2,700 tokens of
prose): counted at its worst, no model under ~3K tokens could read a searcher at all. So a reader downstream of
searchers on a small window (SmolLM2 on llama.cpp's 2,048 tokens) could be sent a prompt longer than its window:
the server refused it (HTTP 400) on every try, and a search stopped there, again after `--resume`.

What is cut: only searchers' hits (a predecessor's output that is an `Evidence:` block), never the question, the
role's instructions or any other predecessor's output. The lowest-ranked hits go first (the searcher's order is the
search tool's ranking, worth keeping), the longest first among hits of the same rank; whole hits are dropped, and
of the last one dropped as much is given back, cut at a word, as still fits. When even no evidence at all would not
fit, nothing is cut: the prompt is then too long for reasons trimming cannot cure, and the server's refusal says so.

A prompt that fits is not touched (byte for byte), so the simulated pool's answers (its windows are 131,072 tokens)
do not change. The count is the shared shape estimate (`models.tokens`), which errs high, so a cut prompt fits.
The node's trace keeps what was cut (`Trim`), and the command line says it once (`EvidenceTrimmedWarning`).

What trimming cannot cure is said too, once per model: a prompt whose estimate and `max_tokens` still exceed the
window before it is sent (`WindowOverflowWarning`: the reply may be cut short of its max_tokens, which is sent
unchanged, as shortening it would change results), and a reply the window did cut (`WindowCutWarning`: the server
says "length" whether the reply reached its max_tokens or the prompt and reply filled the window, and advice to
raise max_tokens cannot help the second).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rolegraph.agents.parsers import hit_fields, parse_evidence
from rolegraph.errors import RolegraphWarning
from rolegraph.models.tokens import text_tokens
from rolegraph.transcript import EVIDENCE_HEAD, Section, render_input

TEMPLATE_TOKENS = 16
"""The chat template's tokens around a call's two messages (SmolLM2's ChatML on llama.cpp: 10)."""
ALL_LEFT_OUT = "(hits found, left out: the context window had no room for them)"
"""A searcher's block with every hit left out: not `(no results)`, which would tell the reader nothing was found."""
MIN_KEPT_CHARS = 200
"""The least of a hit worth giving back cut (about two sentences): less is more noise than evidence."""
CUT_MARK = " ..."
"""The end of a hit cut here, as `format_evidence` marks a hit it cut to `MAX_HIT_CHARS`."""


class EvidenceTrimmedWarning(RolegraphWarning):
    """Some node was sent fewer search hits than its searchers found, to fit its model's context window: said once
    per model and window (the text is the same for every call), so a search or an evaluation says it in one line."""


class WindowOverflowWarning(RolegraphWarning):
    """Some node's estimated prompt and its `max_tokens` exceed its model's context window even with its searchers'
    evidence trimmed as far as it goes: its replies may be cut by the window. Said before the call, once per model."""


class WindowCutWarning(RolegraphWarning):
    """A reply was cut where its prompt and itself filled the model's context window, not at its `max_tokens`:
    said once per model, with what can help (`WINDOW_ADVICE`)."""


WINDOW_ADVICE = (
    "raising or lowering max_tokens will not help; a shorter prompt (a shorter question, fewer or shorter inputs) "
    "or a model with a larger context_window gives the reply its room"
)
"""What helps a reply the window cuts: a higher max_tokens is past the window's end, a lower one cuts it sooner."""


@dataclass(frozen=True)
class Trim:
    """What one node's prompt lost to its model's window: estimated tokens, whole hits dropped, hits cut short."""

    tokens: int
    hits_dropped: int
    hits_cut: int
    window: int


def call_limits(call: Any) -> tuple[int | None, int | None]:
    """The context window and `max_tokens` of the model a `Caller` binds: the runtime's caller (`NodeCall`) carries
    its node's plan (its pool spec, with the window the pool file declares or the server stated as a search
    started); a caller without one (a test's function) has no known window, and nothing is trimmed."""
    plan = getattr(call, "plan", None)
    spec = getattr(plan, "spec", None)
    window = getattr(spec, "context_window", None)
    max_tokens = getattr(plan, "max_tokens", None)
    return (window if isinstance(window, int) else None), (max_tokens if isinstance(max_tokens, int) else None)


def prompt_tokens(system: str, question: str, sections: list[Section], tools: list[dict] | None = None) -> int:
    """A call's estimated prompt tokens: both messages, the template around them, the tools' schemas."""
    schemas = text_tokens(json.dumps(tools)) if tools else 0
    return text_tokens(system) + text_tokens(render_input(question, sections)) + TEMPLATE_TOKENS + schemas


def _most_tokens(system: str, question: str, sections: list[Section], tools: list[dict] | None) -> int:
    """A bound `prompt_tokens` never exceeds: the shape estimate counts at most a token per UTF-8 byte (a letter
    run a quarter, a digit, mark or space one, a character outside ASCII its bytes)."""
    texts = [system, render_input(question, sections), json.dumps(tools) if tools else ""]
    return sum(len(t.encode()) for t in texts) + TEMPLATE_TOKENS


def _evidence(section: Section) -> list[dict[str, Any]]:
    """A searcher's hits, when `section` is a searcher's output (an `Evidence:` block), else none."""
    if not section.text.lstrip().startswith(EVIDENCE_HEAD):
        return []
    return [hit_fields(h) for h in parse_evidence(section.text).fields.get("evidence", [])]


def _render(hits: list[dict[str, Any]]) -> str:
    """An `Evidence:` block of `hits` as `format_evidence` lays it out, their texts as they are (already cut to
    `MAX_HIT_CHARS` by the searcher: cut again, a hit ending in its mark would lose a word more)."""
    lines = [EVIDENCE_HEAD]
    for i, h in enumerate(hits, start=1):
        lines += [f"[{i}] {h['title'] or 'Untitled'}" + (f" ({h['url']})" if h["url"] else ""), h["text"], ""]
    if not hits:  # not `(no results)`: the search found some, the window had no room for them
        lines.append(ALL_LEFT_OUT)
    return "\n".join(lines).rstrip() + "\n"


def _cut(text: str, chars: int) -> str:
    return text[:chars].rsplit(" ", 1)[0] + CUT_MARK


def fit_evidence(
    system: str,
    question: str,
    sections: list[Section],
    *,
    window: int | None,
    max_tokens: int | None,
    tools: list[dict] | None = None,
) -> tuple[list[Section], Trim | None]:
    """`sections` with searchers' hits left out until the prompt and `max_tokens` fit `window` (see the module
    docstring), and what was cut; the same list and None when it fits, when the window is unknown, or when even no
    evidence would fit."""
    if window is None:
        return sections, None
    reply = max_tokens or 0

    def need(current: list[Section]) -> int:
        return prompt_tokens(system, question, current, tools) + reply

    if _most_tokens(system, question, sections, tools) + reply <= window:
        return sections, None  # the usual case, in a few microseconds: no text is counted
    before = need(sections)
    if before <= window:
        return sections, None
    kept = {s.index: list(enumerate(_evidence(s))) for s in sections}
    order = sorted(
        ((rank, text_tokens(h["text"]), index) for index, hits in kept.items() for rank, h in hits), reverse=True
    )

    searched = {index for index, hits in kept.items() if hits}

    def rendered() -> list[Section]:
        return [
            Section(s.index, s.node, s.role, _render([h for _, h in kept[s.index]])) if s.index in searched else s
            for s in sections
        ]

    dropped: list[tuple[int, int, dict[str, Any]]] = []
    for rank, _, index in order:
        hit = next(h for r, h in kept[index] if r == rank)
        kept[index] = [(r, h) for r, h in kept[index] if r != rank]
        dropped.append((index, rank, hit))
        if need(rendered()) <= window:
            break
    else:
        return sections, None  # no evidence at all still does not fit (or there is none): trimming cannot cure it
    cut = _give_back(dropped[-1], kept, lambda: need(rendered()) <= window)
    current = rendered()
    return current, Trim(before - need(current), len(dropped) - cut, cut, window)


def _give_back(last: tuple[int, int, dict[str, Any]], kept: dict[int, list], fits: Callable[[], bool]) -> int:
    """Put back as much of the last hit dropped (`last`: its searcher output, rank and hit) as still fits, cut at a
    word, at least `MIN_KEPT_CHARS`; 1 if it went back cut short, else 0. `fits` reads `kept` as it is."""
    index, rank, hit = last
    text = hit["text"]
    others = kept[index]

    def put(chars: int) -> None:
        kept[index] = sorted([*others, (rank, {**hit, "text": _cut(text, chars)})], key=lambda pair: pair[0])

    lo, hi, best = MIN_KEPT_CHARS, len(text) - 1, 0
    while lo <= hi:  # the longest prefix that fits: the count grows with the prefix
        mid = (lo + hi) // 2
        put(mid)
        if fits():
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    kept[index] = others
    if not best:
        return 0
    put(best)
    return 1


def warn_trimmed(trim: Trim, model: str) -> None:
    """Say once (per model and window: the text is the same on every call) that evidence was trimmed."""
    warnings.warn(
        EvidenceTrimmedWarning(
            f"evidence was trimmed to fit {model}'s context window of {trim.window} tokens: nodes reading searchers "
            "were sent fewer search hits than found (the lowest-ranked first); the nodes' traces say how much "
            "(trimmed_evidence_tokens); a model with a larger context_window reads them all"
        ),
        stacklevel=2,
    )


def cut_by_window(tokens_in: int, tokens_out: int, window: int | None, calls: int = 1) -> bool:
    """Whether replies cut short (finish_reason "length") were cut by the context window rather than at max_tokens:
    their prompt and completion tokens, as the server counted them, reached the window (`calls` replies: each
    filled it). Unknown window: False, and the cut is taken for max_tokens', as before."""
    return window is not None and calls > 0 and tokens_in + tokens_out >= calls * window


def may_overflow(
    system: str, question: str, sections: list[Section], window: int, max_tokens: int | None, tools: list[dict] | None
) -> bool:
    """Whether the prompt's estimate (`prompt_tokens`, which errs high) and `max_tokens` exceed `window`; the
    byte bound first, as `fit_evidence` does, so a prompt far inside its window costs no count."""
    reply = max_tokens or 0
    if _most_tokens(system, question, sections, tools) + reply <= window:
        return False
    return prompt_tokens(system, question, sections, tools) + reply > window


def warn_may_overflow(model: str, window: int) -> None:
    """Say once per model (the text names no node or count) that a prompt and its max_tokens exceed the window."""
    warnings.warn(
        WindowOverflowWarning(
            f"{model}'s context window of {window} tokens may cut its replies: a node's estimated prompt and its "
            f"max_tokens exceed it, with searchers' evidence trimmed as far as it goes; {WINDOW_ADVICE}"
        ),
        stacklevel=2,
    )


def warn_window_cut(model: str, window: int) -> None:
    """Say once per model that a reply was cut by the context window, not at its max_tokens."""
    warnings.warn(
        WindowCutWarning(
            f"replies of {model} were cut by its context window of {window} tokens (the prompt and the reply filled "
            f"it), not at their max_tokens; {WINDOW_ADVICE}"
        ),
        stacklevel=2,
    )

"""Turn a role's model text into a `RoleOutput`: the text, the final answer, and parsed fields.

The layouts are the text contract of rolegraph/transcript.py: a `Plan:` block with optional
`Sub-questions:` lines, an `Evidence:` block of numbered hits, `Verdict for <node>: ...` lines,
and answers extracted by rolegraph.answers.extract_answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rolegraph.answers import extract_answer, final_line, qa_answer
from rolegraph.transcript import EVIDENCE_HEAD, PLAN_HEAD

SUB_QUESTIONS_HEAD = "Sub-questions:"
QUERY_PREFIX = "Query:"
NO_RESULTS = "(no results)"
MAX_HIT_CHARS = 1200  # evidence text kept per hit: enough for a paragraph, bounded context
MAX_CHOICE_TEXT_CHARS = 200
"""Longest one-line reply kept as a choice's text for the task to match: longer is an explanation, not a choice."""

_QUERY_RE = re.compile(r"^\s*(?:[-*]\s*)?(?:\d+[.)]\s*)?query\s*\d*\s*[:：]\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_VERDICT_RE = re.compile(
    r"verdict\s+for\s+`?([^`:\n]+?)`?\s*[:：]\s*\**\s*(correct|incorrect|right|wrong)\b", re.IGNORECASE
)
_HIT_RE = re.compile(r"^\[(\d+)\]\s*(.*?)(?:\s+\(([A-Za-z][\w+.-]*:\S*)\))?\s*$", re.MULTILINE)
_NEGATIVE = ("incorrect", "wrong")


@dataclass(frozen=True, slots=True)
class RoleOutput:
    """What one node produced: its text (what successors read), its answer, and parsed fields."""

    text: str
    answer: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


def _block_after(text: str, head: str) -> str | None:
    """The text after the first line starting with `head`, or None when there is no such line."""
    m = re.search(rf"^\s*\**{re.escape(head.rstrip(':'))}\**\s*:", text, re.IGNORECASE | re.MULTILINE)
    return text[m.end() :] if m else None


def parse_plan(text: str, kind: str = "auto") -> RoleOutput:
    """A planner's `Plan:` block and its `Sub-questions:` (lines starting with `- `). No answer."""
    body = _block_after(text, PLAN_HEAD)
    plan_part = body if body is not None else text
    subs_part = _block_after(plan_part, SUB_QUESTIONS_HEAD)
    if subs_part is not None:
        plan_part = plan_part[: len(plan_part) - len(subs_part)]
        plan_part = re.sub(
            rf"\s*\**{re.escape(SUB_QUESTIONS_HEAD.rstrip(':'))}\**\s*:\s*$", "", plan_part, flags=re.IGNORECASE
        )
    sub_questions = []
    for line in (subs_part or "").splitlines():
        stripped = line.strip()
        if stripped.startswith(("- ", "* ")):
            sub_questions.append(stripped[2:].strip())
        elif stripped and sub_questions:
            break  # the list ended
    return RoleOutput(text, None, {"plan": plan_part.strip(), "sub_questions": sub_questions})


def parse_queries(text: str) -> list[str]:
    """The `Query: ...` lines of a searcher's text, in order, without duplicates."""
    queries = [q.strip().strip('"') for q in _QUERY_RE.findall(text or "")]
    return list(dict.fromkeys(q for q in queries if q))


def hit_fields(hit: Any) -> dict[str, Any]:
    """A search hit (SearchHit-like object or mapping) as a plain dict {title, url, text, score}."""
    get = hit.get if isinstance(hit, Mapping) else (lambda k, d=None: getattr(hit, k, d))
    return {
        "title": str(get("title", "") or "").strip(),
        "url": str(get("url", "") or "").strip(),
        "text": str(get("text", "") or "").strip(),
        "score": get("score", None),
    }


def format_evidence(hits: Iterable[Any]) -> str:
    """The `Evidence:` block: numbered hits `[i] Title (url)` then their text."""
    lines = [EVIDENCE_HEAD]
    count = 0
    for count, hit in enumerate(hits, start=1):
        h = hit_fields(hit)
        head = f"[{count}] {h['title'] or 'Untitled'}" + (f" ({h['url']})" if h["url"] else "")
        text = h["text"]
        if len(text) > MAX_HIT_CHARS:
            text = text[:MAX_HIT_CHARS].rsplit(" ", 1)[0] + " ..."
        lines += [head, text, ""]
    if not count:
        lines.append(NO_RESULTS)
    return "\n".join(lines).rstrip() + "\n"


def parse_evidence(text: str, kind: str = "auto") -> RoleOutput:
    """A searcher's `Evidence:` block back into hits {title, url, text}. A searcher has no answer."""
    body = _block_after(text, EVIDENCE_HEAD)
    hits = []
    if body is not None:
        matches = list(_HIT_RE.finditer(body))
        for i, m in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
            hits.append(
                {
                    "title": m.group(2).strip(),
                    "url": m.group(3) or "",
                    "text": body[m.end() : end].strip(),
                    "score": None,
                }
            )
    return RoleOutput(text, None, {"evidence": hits})


def fallback_answer(text: str) -> str | None:
    """A free-form answer without a marker: the last non-empty line (real models often omit it)."""
    for line in reversed((text or "").strip().splitlines()):
        if line.strip():
            return line.strip()
    return None


def choice_text(text: str) -> str | None:
    """What a multiple-choice reply that names no letter answered, for the task to match against its choices
    (`rolegraph.tasks.mmlu.prediction_letter`, which has them; the parser does not): the text after
    `Final answer:`, else a reply of one short line ('London'). None otherwise, so a reply cut before its
    answer stays unanswered rather than passing its last reasoning line off as a choice."""
    marked = final_line(text or "")
    if marked is not None:
        return marked
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[0] if len(lines) == 1 and len(lines[0]) <= MAX_CHOICE_TEXT_CHARS else None


def parse_answer(text: str, kind: str = "auto") -> RoleOutput:
    """A solver's or fuser's text: the final answer by `kind` (math | mmlu | code | qa | auto). Without one, a
    qa reply's last line is its answer (less an `Answer:` prefix and citations) and an mmlu reply's
    `choice_text` is left for the task to read with its choices."""
    answer = extract_answer(text, kind)
    if answer is None and kind == "qa" and final_line(text or "") is None:  # a marker with nothing after it: none
        answer = qa_answer(fallback_answer(text))
    elif answer is None and kind == "mmlu":
        answer = choice_text(text)
    return RoleOutput(text, answer, {})


def parse_verdicts(text: str, kind: str = "auto") -> RoleOutput:
    """A verifier's text: one verdict per candidate node ("correct" / "incorrect"), then its answer."""
    verdicts = {}
    for node, verdict in _VERDICT_RE.findall(text or ""):
        verdicts[node.strip()] = "incorrect" if verdict.lower() in _NEGATIVE else "correct"
    out = parse_answer(text, kind)
    return RoleOutput(text, out.answer, {"verdicts": verdicts})


def parse_no_answer(text: str, kind: str = "auto") -> RoleOutput:
    """A role that writes material for others and never answers."""
    return RoleOutput(text, None, {})

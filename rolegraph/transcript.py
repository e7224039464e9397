"""The plain-text layout of a node's input: the one contract between the roles that write it and
any reader of it (a real model, or the simulated pool, which reads it "as a model would").

A role's system prompt starts with `Role: <name>.`; the user message holds the question and then
one section per predecessor, headed `=== Input i from node `id` (role) ===`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ROLE_LINE = re.compile(r"^Role:\s*([A-Za-z_][\w-]*)\.?", re.MULTILINE)
SECTION_HEADER = "=== Input {index} from node `{node}` ({role}) ==="
_SECTION_RE = re.compile(r"^=== Input (\d+) from node `([^`]*)` \(([^)]*)\) ===$", re.MULTILINE)
QUESTION_HEAD = "Question:"
INPUTS_HEAD = "Inputs from {k} predecessor(s):"
EVIDENCE_HEAD = "Evidence:"
PLAN_HEAD = "Plan:"


@dataclass(frozen=True)
class Section:
    index: int
    node: str
    role: str
    text: str


def role_line(role: str) -> str:
    return f"Role: {role}."


def render_input(question: str, sections: list[Section]) -> str:
    """The user message of a node: the question, then its predecessors' outputs in order."""
    parts = [QUESTION_HEAD, question.strip()]
    if sections:
        parts += ["", INPUTS_HEAD.format(k=len(sections))]
        for s in sections:
            parts += ["", SECTION_HEADER.format(index=s.index, node=s.node, role=s.role), s.text.strip()]
    return "\n".join(parts) + "\n"


def read_role(system_text: str) -> str | None:
    m = ROLE_LINE.search(system_text or "")
    return m.group(1).lower() if m else None


def read_sections(user_text: str) -> list[Section]:
    """Split a user message back into its predecessor sections (empty when it has none)."""
    matches = list(_SECTION_RE.finditer(user_text or ""))
    out = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(user_text)
        out.append(Section(int(m.group(1)), m.group(2), m.group(3), user_text[m.end() : end].strip()))
    return out


def read_question(user_text: str) -> str:
    text = user_text or ""
    if text.startswith(QUESTION_HEAD):
        text = text[len(QUESTION_HEAD) :]
    m = re.search(r"^Inputs from \d+ predecessor\(s\):$", text, re.MULTILINE)
    return (text[: m.start()] if m else text).strip()

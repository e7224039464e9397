"""What a sim model reads from its messages, as a model would: predecessor sections, the candidate
answers in them (with the roles' own parser), and whether searched evidence holds the gold.

Speed matters here (the search benchmarks call the sim millions of times): section headers and
final-answer lines are found with `str.find` before any regex.
"""

from __future__ import annotations

import re

from rolegraph.answers import extract_answer, final_line
from rolegraph.items import AnswerKey
from rolegraph.sim import text as txt
from rolegraph.transcript import SECTION_HEADER, Section

TAIL_CHARS = 400  # answers come last: a candidate's final-answer line is looked for here first
FAST_KINDS = frozenset({"math", "qa", "auto"})  # kinds whose extracted answer is the final line itself
_HEADER_PREFIX = SECTION_HEADER.split("{", 1)[0]  # "=== Input "
_HEADER_RE = re.compile(r"=== Input (\d+) from node `([^`]*)` \(([^)]*)\) ===")


def extract_candidate(text: str, kind: str) -> str | None:
    """`extract_answer(text, kind)`, looking at the tail first (same result, far less scanning)."""
    if kind in FAST_KINDS and len(text) > TAIL_CHARS:
        cut = text.rfind("\n", 0, len(text) - TAIL_CHARS) + 1
        ans = final_line(text[cut:])
        if ans is not None:
            return ans
    return extract_answer(text, kind)


def read_sections_fast(user_text: str) -> list[Section]:
    """`transcript.read_sections`, finding header lines with `str.find` instead of a multiline regex scan."""
    heads: list[tuple[int, int, re.Match[str]]] = []
    pos = 0
    while True:
        i = user_text.find(_HEADER_PREFIX, pos)
        if i < 0:
            break
        end = user_text.find("\n", i)
        end = len(user_text) if end < 0 else end
        if i == 0 or user_text[i - 1] == "\n":
            m = _HEADER_RE.fullmatch(user_text, i, end)
            if m:
                heads.append((i, end, m))
        pos = i + 1
    out = []
    for j, (_, end, m) in enumerate(heads):
        stop = heads[j + 1][0] if j + 1 < len(heads) else len(user_text)
        out.append(Section(int(m.group(1)), m.group(2), m.group(3), user_text[end:stop].strip()))
    return out


def gold_in_evidence(sections: list[Section], key: AnswerKey) -> bool:
    """Whether a searcher's section contains the gold answer (what makes evidence useful on qa)."""
    gold = txt.norm_answer(key.gold, "qa")
    if not gold:
        return False
    for s in sections:
        if s.role == "searcher" and gold in (txt.norm_answer(s.text, "qa") or ""):
            return True
    return False

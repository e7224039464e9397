"""Robust answer extraction from model text, shared by every role and by the simulated pool.

Order of preference: `Final answer:`, the last `\\boxed{...}`, a fenced code block (code),
a multiple-choice letter (mmlu), the last number (math).
"""

from __future__ import annotations

import re

_FINAL_RE = re.compile(r"final answer\s*(?:is)?\s*[:：]\s*(.+)", re.IGNORECASE)
_NUMBER_RE = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?")
_CHOICE_RE = re.compile(r"\b(?:answer|option|choice)\s*(?:is)?\s*[:：]?\s*\(?([A-D])\)?\b", re.IGNORECASE)
_LONE_CHOICE_RE = re.compile(r"^\s*\(?([A-D])\)?[.):]?\s*$", re.MULTILINE)
_FENCE_RE = re.compile(r"```(?:[a-zA-Z0-9_+-]*)\n(.*?)```", re.DOTALL)
MAX_SCAN_CHARS = 200_000  # longer outputs are scanned from their tail: answers come last


def last_boxed(text: str) -> str | None:
    """Content of the last \\boxed{...} (or \\fbox{...}), braces balanced."""
    idx = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if idx < 0:
        return None
    start = text.find("{", idx)
    if start < 0:
        return None
    depth = 0
    for i in range(start, len(text)):
        ch = text[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i].strip()
    return None


def last_code_block(text: str) -> str | None:
    blocks = _FENCE_RE.findall(text)
    return blocks[-1] if blocks else None


def last_number(text: str) -> str | None:
    nums = _NUMBER_RE.findall(text)
    if not nums:
        return None
    return nums[-1].replace(",", "").rstrip(".")


def choice_letter(text: str) -> str | None:
    m = list(_CHOICE_RE.finditer(text))
    if m:
        return m[-1].group(1).upper()
    m = list(_LONE_CHOICE_RE.finditer(text))
    return m[-1].group(1).upper() if m else None


def final_line(text: str) -> str | None:
    """The text after the last 'Final answer:' marker, up to the end of its line."""
    found = list(_FINAL_RE.finditer(text))
    if not found:
        return None
    ans = found[-1].group(1).strip()
    boxed = last_boxed(ans)
    if boxed is not None:
        return boxed
    ans = ans.strip().strip("*").strip()
    if ans.startswith("$") and ans.endswith("$") and len(ans) > 1:
        ans = ans.strip("$").strip()
    return ans.rstrip(".").strip() or None


def extract_answer(text: str | None, kind: str = "auto") -> str | None:
    """Best-effort answer from `text`. kind: auto | math | mmlu | code | qa."""
    if not text:
        return None
    if len(text) > MAX_SCAN_CHARS:
        text = text[-MAX_SCAN_CHARS:]
    if kind == "code":
        block = last_code_block(text)
        if block is not None:
            return block
        return final_line(text)
    ans = final_line(text)
    if kind == "mmlu":
        if ans:
            letter = choice_letter(ans) or (
                ans[0].upper() if ans[:1].upper() in "ABCD" and (len(ans) == 1 or not ans[1].isalpha()) else None
            )
            if letter:
                return letter
        return choice_letter(text)
    if ans is not None:
        return ans
    boxed = last_boxed(text)
    if boxed is not None:
        return boxed
    if kind in ("math", "auto"):
        return last_number(text)
    return None

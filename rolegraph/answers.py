"""Robust answer extraction from model text, shared by every role and by the simulated pool.

Order of preference: `Final answer:`, the last `\\boxed{...}`, a fenced code block (code),
a multiple-choice letter (mmlu), the last number (math).

Code: fences may be ``` or ~~~, with CRLF line ends and a space before the language; of several
blocks the last one that defines a function wins, because models often end with a usage example
(`print(f(3))`) after the solution; a block that defines only tests (`test_*`, `check`) loses to the
solution before it. Multiple choice: an explicit `Answer: X` marker wins over a lone letter line,
which wins over phrases like "option C" or "I choose C"; outside an explicit marker only capital
letters count, so the article "a" is never read as choice A. A final answer that opens by rejecting
a letter ("A is incorrect, so the answer is C") names the letter it goes on to choose.
"""

from __future__ import annotations

import re

_FINAL_RE = re.compile(r"final answer\s*(?:is)?\s*[:：]\s*(.+)", re.IGNORECASE)
_NUMBER_RE = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?")
_WRAP = r"(?:[ \t]*(?:[*$\[({]|\\(?:text|textbf|mathrm|mathbf|boxed)\{))*[ \t]*"
"""Markup a model may put around a choice letter: bold, math, \\text{B}, [B], (B)."""
_MARKED_CHOICE_RE = re.compile(
    r"(?i:\b(?:final\s+)?answer)(?:\*\*)?[ \t]*[:：](?:[ \t]*\n)?"
    + _WRAP
    + r"(?:([A-D])(?![A-Za-z0-9])|([a-d])(?=[\s*$)\]}.,;:]*(?:$|\n)|[)\]}.,;:]))"
)
"""`Answer: D` / `Final answer: (b)`; a lowercase letter only when nothing but punctuation follows it."""
_LONE_CHOICE_RE = re.compile(r"^[ \t]*(?:\*\*)?[\[({]?([A-D])[\])}]?(?:\*\*)?[.):]?[ \t]*$", re.MULTILINE)
_PHRASE_CHOICE_RES = (
    re.compile(r"(?i:\b(?:answer|option|choice))(?:\s*(?i:is)\b)?(?:\s*[:：])?\s*\(?([A-D])\)?(?![A-Za-z0-9])"),
    re.compile(r"(?i:\b(?:choose|chose|pick|picked|select|selected|go with|opt for))\s+\(?([A-D])\)?(?![A-Za-z0-9])"),
    re.compile(
        r"(?<![A-Za-z0-9])\(?([A-D])\)?\s+(?i:is\s+(?:correct|right|the\s+(?:correct\s+|right\s+|best\s+)?answer))\b"
    ),
)
"""Weaker evidence, capital letters only: "option C", "I choose C", "D is right"."""
_FENCE_RE = re.compile(r"(?<![`~])(`{3,}+|~{3,}+)[ \t]*+[\w+.#-]*+[ \t]*+\n(.*?)\1", re.DOTALL)
"""A fenced block: ``` or ~~~ (matching close), an optional language after optional spaces."""
_TEST_FUNCTION_RE = re.compile(r"^(?:test\w*|check)$")
"""Function names of a block that tests the solution rather than being it."""
_LETTER_TOKEN_RE = re.compile(r"(?<![A-Za-z0-9])[\[(]?([A-D])[\])]?(?![A-Za-z0-9'])")
_REJECTED_AFTER_RE = re.compile(
    r"[\])}]?(?:\*\*)?[ \t]+(?i:(?:is|are)[ \t]+(?:not\b|incorrect|wrong|false)|isn't\b|can't be|cannot be)"
)
_REJECTED_BEFORE_RE = re.compile(r"(?i:\bnot)[ \t]+[\[(]?$")
"""A letter the final answer rejects: "A is incorrect", "(B) isn't right", "not C"."""
_DEF_RE = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+(\w+)[ \t]*\(", re.MULTILINE)
_FINAL_CODE_RE = re.compile(r"final answer\s*(?:is)?\s*[:：][^\S\n]*", re.IGNORECASE)
_CODE_START_RE = re.compile(r"(?:async\s+def|def|class|from|import)\s|@\w")
"""The first line of an unfenced answer that is code, not prose."""
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


def code_blocks(text: str) -> list[str]:
    """Every fenced block's content, in order; CRLF line ends are read as LF."""
    text = text.replace("\r\n", "\n")
    return [body for _, body in _FENCE_RE.findall(text)]


def defined_functions(code: str) -> list[str]:
    """Names of the functions `code` defines (at any indentation)."""
    return _DEF_RE.findall(code)


def last_code_block(text: str, entry_point: str | None = None) -> str | None:
    """The solution block: the last one defining `entry_point` (when given and some block does),
    else the last one defining any function, else the last block."""
    blocks = code_blocks(text)
    if not blocks:
        return None
    if entry_point is not None:
        for block in reversed(blocks):
            if entry_point in defined_functions(block):
                return block
    defining = [block for block in blocks if defined_functions(block)]
    for block in reversed(defining):
        if not all(_TEST_FUNCTION_RE.match(name) for name in defined_functions(block)):
            return block
    return defining[-1] if defining else blocks[-1]


def code_after_marker(text: str) -> str | None:
    """Unfenced code after the last 'Final answer:' when it starts on the next line or is plainly
    code (`def ...`): the whole rest of the text, not only the marker's line."""
    text = text.replace("\r\n", "\n")
    found = list(_FINAL_CODE_RE.finditer(text))
    if not found:
        return None
    rest = text[found[-1].end() :]
    if rest.startswith("\n"):
        rest = rest.lstrip("\n")
    elif "\n" not in rest or not _CODE_START_RE.match(rest):
        return None
    return rest.rstrip() + "\n" if rest.strip() else None


def last_number(text: str) -> str | None:
    nums = _NUMBER_RE.findall(text)
    if not nums:
        return None
    return nums[-1].replace(",", "").rstrip(".")


def choice_letter(text: str) -> str | None:
    """The chosen letter A-D: the last explicit `Answer: X`, else the last lone letter line, else the
    last phrase naming a capital letter ("option C", "I choose C"); None when nothing names one."""
    marked = list(_MARKED_CHOICE_RE.finditer(text))
    if marked:
        return (marked[-1].group(1) or marked[-1].group(2)).upper()
    lone = list(_LONE_CHOICE_RE.finditer(text))
    if lone:
        return lone[-1].group(1)
    phrases = [m for pattern in _PHRASE_CHOICE_RES for m in pattern.finditer(text)]
    return max(phrases, key=lambda m: m.start()).group(1) if phrases else None


def _leading_letter(answer: str) -> str | None:
    """The letter an extracted answer starts with: 'C', 'C. Paris', '\\text{B}', '[b]' (a lowercase
    letter only alone, so 'a tricky one' is not A)."""
    m = re.match(_WRAP + r"(?:([A-D])(?![A-Za-z0-9])|([a-d])[\s*$)\]}.]*$)", answer)
    return (m.group(1) or m.group(2).upper()) if m else None


def _unrejected_letters(answer: str) -> list[str] | None:
    """The choice letters `answer` names without rejecting them, in order; None when it rejects none (then the
    usual reading applies). "B is wrong; C" -> [C]; "A is incorrect and B is incorrect, leaving D" -> [D]."""
    kept, rejected = [], False
    for m in _LETTER_TOKEN_RE.finditer(answer):
        if _REJECTED_AFTER_RE.match(answer, m.end()) or _REJECTED_BEFORE_RE.search(answer[: m.start()]):
            rejected = True
        else:
            kept.append(m.group(1))
    return kept if rejected else None


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
        return code_after_marker(text) or final_line(text)
    ans = final_line(text)
    if kind == "mmlu":
        if ans:
            kept = _unrejected_letters(ans)
            if kept is not None:  # the final answer rejects a letter: the last one it does not reject, never it
                return kept[-1] if kept else None
            letter = _leading_letter(ans) or choice_letter(ans)
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

"""Robust answer extraction from model text, shared by every role and by the simulated pool.

Order of preference: `Final answer:`, the last `\\boxed{...}` (or Hendrycks' `\\boxed 5`), a fenced code
block (code), a multiple-choice letter (mmlu), the last number (math). A last number inside LaTeX
(`\\frac{1}{6}`, `$4\\pi$`, `\\sqrt{2}`) is never read alone, which would give the denominator or the
radicand: the whole math expression holding it is the answer (the math scorer normalises it), or none.

Code: fences may be ``` or ~~~, with CRLF line ends and a space before the language; of several
blocks the last one that defines a function wins, because models often end with a usage example
(`print(f(3))`) after the solution; a block that defines only tests (`test_*`, `check`) loses to the
solution before it. Multiple choice: an explicit `Answer: X` marker wins over a lone letter line,
which wins over phrases like "option C" or "I choose C"; outside an explicit marker only capital
letters count, so the article "a" is never read as choice A. A final answer that opens by rejecting
a letter ("A is incorrect, so the answer is C") names the letter it goes on to choose; a final answer
naming one parenthesised letter ("The capital is London (B)") names it, and a reply that opens with one
choice's line ("B. London") and lists no other choice names that one.

Code without any fence (a model that ignored the fence request) is still code: the whole reply when
it parses as Python (a function, or only its body), else the reply from its first `def`/`class`/
`import` line (even mid-line: "Sure! def f(...)") up to prose that follows it at column 0. Text with
a fence marker is left to the fenced reading: a reply cut inside its block has no answer.

QA: what a solver was asked to add to its answer is not part of it: trailing `[n]` citations, an
`Answer:` prefix and a `\\text{...}` wrapper are dropped.
"""

from __future__ import annotations

import ast
import re
import textwrap
from types import MappingProxyType

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
_BOXED_NAMES = ("\\boxed", "\\fbox")
_BOXED_TOKEN_END_RE = re.compile(r"[$\n]")
"""Where a brace-less `\\boxed 5` ends: the closing `$` (as the MATH reference code reads it) or the line."""
_MATH_SPAN_RE = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_LATEX_MARKUP_RE = re.compile(r"\\[A-Za-z]+|[\^_{}π]")
"""What makes a $...$ span math rather than two currency signs: a command, a script, a brace."""
_LATEX_RUN_RE = re.compile(r"(?:\\[A-Za-z]+|[\w.{}^_+\-*/()\[\]π])+")
"""A LaTeX expression written without spaces: `\\frac{13}{6}`, `4\\pi`, `2\\sqrt{3}`."""
_LATEX_COMMAND_RE = re.compile(r"\\[A-Za-z]+|π")
_BRACKETS = MappingProxyType({"(": ")", "{": "}", "[": "]"})
_LATEX_THOUSANDS = "{,}"
_CLOSING_PUNCT = ".,;:!?"
_PAREN_LETTER_RE = re.compile(r"\(([A-D])\)")
_CHOICE_LINE_RE = re.compile(r"^[ \t]*(?:\*\*)?\(?([A-D])(?:\*\*)?[.)](?:\*\*)?[ \t]+\S")
"""A line opening with a choice label and its text: 'B. London', '(C) Paris', '**D.** none'."""
_FENCE_MARK_RE = re.compile(r"```|~~~")
_CODE_START_ANYWHERE_RE = re.compile(
    r"(?<![\w.])(?:async[ \t]+)?def[ \t]+\w+[ \t]*\("
    r"|^[ \t]*(?:class[ \t]+\w|from[ \t]+[\w.]+[ \t]+import\b|import[ \t]+\w|@\w)",
    re.MULTILINE,
)
"""Where unfenced code may start: a `def` anywhere ("Sure! def f(x):"), a class/import/decorator line."""
MAX_CODE_STARTS = 8
"""Code starts tried in one reply: prose with many 'from ...' lines must not cost a parse each."""
MAX_PARSE_CUTS = 16
"""Trailing prose paragraphs cut from unfenced code before giving up."""
_PLAIN_STATEMENTS = (ast.Expr, ast.AnnAssign, ast.Pass)
"""Statements a line of prose can parse as ('London', 'Note: see') : alone they are not code."""
_CITATIONS_RE = re.compile(r"(?:[ \t]*\[\d+(?:[ \t]*[,\u2013-][ \t]*\d+)*\])+[ \t]*([.]?)[ \t]*$")
_ANSWER_PREFIX_RE = re.compile(r"^(?:\*\*)?(?i:answer)(?:\*\*)?[ \t]*[:：](?:\*\*)?[ \t]*")
_TEXT_WRAPPER_RE = re.compile(r"^\\(?:text|textbf|textit|textrm|mathrm|mbox)[ \t]*\{")


def last_boxed(text: str) -> str | None:
    """Content of the last \\boxed{...} (or \\fbox{...}), braces balanced; Hendrycks' brace-less `\\boxed 5`
    is the token after the space up to the next `$` or line end (the MATH reference's
    `last_boxed_only_string`). A \\boxed with neither has no content: a later brace is not its argument."""
    idx = max(text.rfind(name) for name in _BOXED_NAMES)
    if idx < 0:
        return None
    after = idx + next(len(name) for name in _BOXED_NAMES if text.startswith(name, idx))
    start = after
    while start < len(text) and text[start] in " \t":
        start += 1
    if start < len(text) and text[start] == "{":
        return _braced(text, start)
    if start == after or start >= len(text):
        return None
    end = _BOXED_TOKEN_END_RE.search(text, start)
    token = text[start : end.start() if end else len(text)].strip()
    return token or None


def _braced(text: str, start: int) -> str | None:
    """The content of the brace group opening at `start`, or None when it never closes."""
    end = _closing_brace(text, start)
    return text[start + 1 : end].strip() if end is not None else None


def _closing_brace(text: str, start: int) -> int | None:
    depth = 0
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return i
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
    """The last number of `text`, or the whole LaTeX expression it sits in (see the module docstring): a
    `$...$` span with math markup, else the run of LaTeX around it; None when that run is unbalanced."""
    text = text.replace(_LATEX_THOUSANDS, ",")  # 14{,}000 is one number, not 14 and 000
    nums = list(_NUMBER_RE.finditer(text))
    if not nums:
        return None
    last = nums[-1]
    for span in _MATH_SPAN_RE.finditer(text):
        group = span.lastindex or 0  # each alternative has one group: the one that matched
        if span.start(group) <= last.start() and last.end() <= span.end(group):
            content = span.group(group).strip()
            if _LATEX_MARKUP_RE.search(content):
                return content.rstrip(_CLOSING_PUNCT).strip() or None
    for run in _LATEX_RUN_RE.finditer(text):
        if run.start() <= last.start() and last.end() <= run.end():
            if _LATEX_COMMAND_RE.search(run.group()):
                return _balanced(run.group().rstrip(_CLOSING_PUNCT))
            break
    return last.group().replace(",", "").rstrip(".")


def _balanced(expr: str) -> str | None:
    """`expr` without brackets it closes but never opens ('\\sqrt{2})' -> '\\sqrt{2}') or opens but never
    closes; None when what is left still does not balance (a cut expression is no answer)."""
    while expr and expr[-1] in _BRACKETS.values() and _depth(expr) < 0:
        expr = expr[:-1]
    while expr and expr[0] in _BRACKETS and _depth(expr) > 0:
        expr = expr[1:]
    if not expr or _depth(expr) != 0 or not _nests(expr):
        return None
    if expr[0] == "(" and _nests(expr[1:-1]) and expr[-1] == ")":  # '(\\sqrt{2})': the parentheses hold it all
        expr = expr[1:-1]
    return expr or None


def _depth(expr: str) -> int:
    return sum(expr.count(o) - expr.count(c) for o, c in _BRACKETS.items())


def _nests(expr: str) -> bool:
    stack: list[str] = []
    for ch in expr:
        if ch in _BRACKETS:
            stack.append(_BRACKETS[ch])
        elif ch in _BRACKETS.values() and (not stack or stack.pop() != ch):
            return False
    return not stack


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


def _named_in_parentheses(answer: str) -> str | None:
    """The one letter a final answer names in parentheses ('The capital is London (B)'); None for none or several."""
    letters = set(_PAREN_LETTER_RE.findall(answer))
    return letters.pop() if len(letters) == 1 else None


def _opening_choice_line(text: str) -> str | None:
    """The letter of a reply that opens with one choice's line ('B. London', then any explanation), when no
    other line opens with another choice's label: a reply listing the choices names none of them."""
    lines = [line for line in text.splitlines() if line.strip()]
    first = _CHOICE_LINE_RE.match(lines[0]) if lines else None
    if first is None:
        return None
    others = {m.group(1) for line in lines[1:] if (m := _CHOICE_LINE_RE.match(line))}
    return first.group(1) if others <= {first.group(1)} else None


def unfenced_code(text: str) -> str | None:
    """Code written without a fence (see the module docstring), or None: prose only, or a fence marker."""
    text = text.replace("\r\n", "\n")
    if _FENCE_MARK_RE.search(text):
        return None
    starts = [0] + [m.start() for m in _CODE_START_ANYWHERE_RE.finditer(text)][:MAX_CODE_STARTS]
    for start in dict.fromkeys(starts):
        code = _parsable_head(text[start:])
        if code is not None:
            return code
    return None


def _parsable_head(text: str) -> str | None:
    """`text` up to the first prose line at column 0 that stops it parsing, when the rest is code (see
    `_is_code`); None when it fails inside the code (a broken candidate is not trimmed into another)."""
    lines = text.rstrip().split("\n")
    for _ in range(MAX_PARSE_CUTS):
        if not lines or not lines[0].strip():
            return None
        code = "\n".join(lines)
        try:
            tree = ast.parse(textwrap.dedent(code))
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
            bad = (getattr(exc, "lineno", None) or 0) - 1
            if bad < 1 or bad >= len(lines) or lines[bad][:1].isspace() or not lines[bad].strip():
                return None
            lines = lines[:bad]
            continue
        return code.rstrip() + "\n" if _is_code(tree) else None
    return None


def _is_code(tree: ast.Module) -> bool:
    """A parsed text is code when some statement is more than an expression or annotation, which a line of
    prose ('London', 'Note: see above') also parses as; a call (`print(x)`) counts."""
    return any(
        not isinstance(stmt, _PLAIN_STATEMENTS)
        or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call))
        or (isinstance(stmt, ast.AnnAssign) and stmt.value is not None)
        for stmt in tree.body
    )


def qa_answer(answer: str | None) -> str | None:
    """A QA answer without what the prompt asked to go with it: an `Answer:` prefix, trailing `[n]` citations,
    a `\\text{...}` wrapper ('Answer: yes [2][3]' -> 'yes'); None when nothing is left."""
    if answer is None:
        return None
    text = _ANSWER_PREFIX_RE.sub("", answer.strip()).strip()
    text = _CITATIONS_RE.sub(r"\1", text).strip()
    wrapper = _TEXT_WRAPPER_RE.match(text)
    if wrapper and _closing_brace(text, wrapper.end() - 1) == len(text) - 1:  # the wrapper holds all of it
        text = text[wrapper.end() : -1]
    return text.strip() or None


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
        return code_after_marker(text) or unfenced_code(text) or final_line(text)
    ans = final_line(text)
    if kind == "mmlu":
        if ans:
            kept = _unrejected_letters(ans)
            if kept is not None:  # the final answer rejects a letter: the last one it does not reject, never it
                return kept[-1] if kept else None
            letter = _leading_letter(ans) or choice_letter(ans) or _named_in_parentheses(ans)
            if letter:
                return letter
        return choice_letter(text) or _opening_choice_line(text)
    if kind == "qa":
        return qa_answer(ans if ans is not None else last_boxed(text))
    if ans is not None:
        return ans
    boxed = last_boxed(text)
    if boxed is not None:
        return boxed
    if kind in ("math", "auto"):
        return last_number(text)
    return None

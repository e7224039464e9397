"""Equivalence of MATH-style answers by string normalisation and exact fractions (no sympy).

`math_equal("\\dfrac{1}{2}", "0.5")` is True. The normaliser removes presentation (\\left, spacing,
\\text{}, units, degrees, currency and percent signs, `{,}` thousands separators, a leading `x =`),
reads `π` as \\pi, rewrites \\frac{a}{b} as a/b, compares numbers exactly as fractions, and compares
tuples, intervals, sets, comma lists and matrices element by element. What it cannot decide it
compares as normalised strings, so it errs towards "not equal" rather than accepting a wrong answer.

A unit on one side only is presentation ('5.4 cents' is 5.4); units on both sides must agree, up to
plural and common abbreviations ('5 hours' is not '5 minutes', '3 in' is '3 inches'). Letters after a number
are algebra, not a unit, when they name a function ('2 sin x') or are a short word written against the number that
is no known unit ('3ab' is not 3; '15cm' is 15).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction
from itertools import permutations
from types import MappingProxyType

from rolegraph.answers import last_boxed

MAX_PERMUTED_ITEMS = 6
"""Unordered comma lists longer than this are compared in order only (permutations grow fast)."""

_SPACING_RE = re.compile(r"(?<!\\)\\[!,;: ]|\\q?quad(?![A-Za-z])|~")
_DROPPED = [
    r"\displaystyle",
    r"\left",
    r"\right",
    r"\biggl",
    r"\biggr",
    r"\Biggl",
    r"\Biggr",
    r"\bigg",
    r"\Bigg",
    r"\bigl",
    r"\bigr",
    r"\Bigl",
    r"\Bigr",
    r"\big",
    r"\Big",
]
_WRAPPERS = (
    "text",
    "textbf",
    "textit",
    "textnormal",
    "textrm",
    "mbox",
    "mathrm",
    "mathbf",
    "mathit",
    "operatorname",
    "hbox",
)
_ALIASES = [
    (r"\dfrac", r"\frac"),
    (r"\tfrac", r"\frac"),
    (r"\cfrac", r"\frac"),
    (r"\leq", r"\le"),
    (r"\geq", r"\ge"),
    (r"\neq", r"\ne"),
    (r"\lt", "<"),
    (r"\gt", ">"),
    ("∞", r"\infty"),
    ("−", "-"),
    (r"\cdot", "*"),
    (r"\times", "*"),
]
_DEGREES = [r"^{\circ}", r"^\circ", r"\circ", "°", r"^{\degree}", r"\degree"]
_CURRENCY = (r"\$", "$", "€", "£", "¥", "₹", r"\euro", r"\pounds", r"\yen")
"""Currency signs, as presentation like the dollar (the gsm questions are in £ and € too); longest first per sign."""
_UNICODE_PI = "π"
_BRACED_COMMA = "{,}"
"""LaTeX's thousands separator: 14{,}000."""
_UNIT_ALIASES = MappingProxyType(
    {
        "cm": "centimeter",
        "mm": "millimeter",
        "km": "kilometer",
        "in": "inch",
        "ft": "foot",
        "feet": "foot",
        "yd": "yard",
        "mi": "mile",
        "sec": "second",
        "min": "minute",
        "hr": "hour",
        "kg": "kilogram",
        "lb": "pound",
        "oz": "ounce",
        "metre": "meter",
        "centimetre": "centimeter",
        "millimetre": "millimeter",
        "kilometre": "kilometer",
    }
)
"""Spellings of one unit, so that only a different unit (not an abbreviation or a plural) fails an answer."""
_PLURAL_ES = ("ches", "shes", "xes", "sses")
_DIMENSION_WORDS = frozenset({"square", "sq", "cubic", "cu", "unit"})
"""Words a unit is compared without: '20 square units' and '20 units' agree, as '15 cm^2' and '15 square cm'."""
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS_RE = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_LISTED_RE = re.compile(r",\s+\d")
"""A comma then a typed space before a digit: a list of numbers ("1, 125": two solutions), never a thousands separator
(MATH writes those with LaTeX's thin space, "10,\\!080", which `_SPACING_RE` only later makes a space)."""
_FRACTION_RE = re.compile(r"^\(?([+-]?(?:\d+(?:\.\d*)?|\.\d+))\)?/\(?([+-]?(?:\d+(?:\.\d*)?|\.\d+))\)?$")
_MIXED_RE = re.compile(r"^([+-]?)(\d+)\\frac\{(\d+)\}\{(\d+)\}$")
_UNIT_RE = re.compile(r"^(?P<num>.*?[\d}.])(?P<gap>\s*)(?P<unit>[A-Za-z]{2,}(?:\s+[A-Za-z]+)*)(?:\^\{?[23]\}?)?\.?$")
_SHORT_UNITS = frozenset({"mph", "kph", "ml", "mg", "cc", "gal", "day", "yr", "wk", "pt", "qt", "ms", "gm", "am", "pm"})
"""Units of two or three letters beside `_UNIT_ALIASES`' keys: the only short words read as a unit when written
against the number ('15cm', '3hrs'), where a short word is otherwise a product of variables ('3ab', '2xy')."""
_LONG_WORD = 4  # letters from which a word written against a number is read as a unit ('12dollars')
_FUNCTION_WORDS = ("arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "sin", "cos", "tan", "cot", "csc", "log", "ln")
"""A word starting with one of these is a function of what follows ('2 sin x', '3\\log 2'), never a unit ('sec' is
left out: '2 sec' is two seconds)."""
_LHS_RE = re.compile(r"^[A-Za-z](?:_\{?\w+\}?)?(?:\\in|=)(?!=)")
_FRAC_ARG = r"(\{(?:[^{}]|\{[^{}]*\})*\}|\\?[A-Za-z0-9])"
_FRAC_RE = re.compile(r"\\frac" + _FRAC_ARG + _FRAC_ARG)
_SQRT_RE = re.compile(r"\\sqrt([A-Za-z0-9])")
_SCRIPT_RE = re.compile(r"([\^_])\{(\\?\w)\}")
_ATOMIC_RE = re.compile(r"^[\w.\\{}^]+$")
_PAREN_ATOM_RE = re.compile(r"(^|[+\-*/=(,])\(([\w.\\]+)\)(?=$|[+\-*/=),])")
_PAREN_SIGNED_RE = re.compile(r"^\(([+-](?:\d+(?:\.\d*)?|\.\d+)(?:/\d+)?)\)$")
"""A whole answer that is one signed number or fraction in parentheses, `(-3)` or `(-1/2)`: the number itself
(`(3)` already was, by `_PAREN_ATOM_RE`, whose atoms carry no sign)."""
_MATRIX_RE = re.compile(r"^\\begin\{([pbvBV]?matrix|array)\}(?:\{[^{}]*\})?(.*)\\end\{\1\}$")
_OPEN, _CLOSE = "([", ")]"


def _unwrap_commands(text: str, names: tuple[str, ...]) -> str:
    """Replace \\name{content} by content (balanced braces) for each wrapper name."""
    pattern = re.compile(r"\\(" + "|".join(names) + r")\s*\{")
    while (match := pattern.search(text)) is not None:
        start, depth, i = match.end(), 1, match.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        text = text[: match.start()] + text[start : i - 1 if depth == 0 else i] + text[i:]
    return text


def _strip_units(text: str) -> tuple[str, str | None]:
    """('15', 'centimeter') from '15 cm^2', ('5.4', 'cent') from '5.4 cents': trailing words after a number are
    a unit, returned apart in one spelling (`_unit_key`) so both sides' units can be compared."""
    match = _UNIT_RE.match(text.strip())
    if match and _reads_as_unit(match.group("unit"), attached=not match.group("gap")):
        if to_fraction(normalize(match.group("num"), strip_units=False)) is not None:
            return match.group("num"), _unit_key(match.group("unit"))
    return text, None


def _reads_as_unit(words: str, *, attached: bool) -> bool:
    """Whether the words after a number are a unit, not algebra: no word is a function ('2 sin x'), and a short
    word written against the number is a known unit ('15cm', not '3ab': `_SHORT_UNITS`, `_LONG_WORD`)."""
    lowered = words.lower().split()
    if any(word.startswith(_FUNCTION_WORDS) for word in lowered):
        return False
    first = lowered[0]
    known = {first, first.removesuffix("s")} & (_UNIT_ALIASES.keys() | _SHORT_UNITS)
    return not attached or len(first) >= _LONG_WORD or bool(known)


def _unit_key(unit: str) -> str | None:
    """One spelling per unit: lower case, singular, abbreviations spelled out ('Hours' -> 'hour', 'in' -> 'inch'),
    without dimension words; None when nothing else is left ('units' says no unit)."""
    words = []
    for word in unit.lower().split():
        if word.endswith(_PLURAL_ES):
            word = word[:-2]
        elif word.endswith("s") and not word.endswith("ss") and len(word) > len("ss"):
            word = word[:-1]
        if word not in _DIMENSION_WORDS:
            words.append(_UNIT_ALIASES.get(word, word))
    return " ".join(words) or None


def _frac_to_slash(text: str) -> str:
    """\\frac{a}{b} -> a/b, parenthesising non-atomic parts; innermost first."""

    def repl(m: re.Match[str]) -> str:
        parts = []
        for arg in (m.group(1), m.group(2)):
            inner = arg[1:-1] if arg.startswith("{") else arg
            parts.append(inner if _ATOMIC_RE.match(inner) else f"({inner})")
        return f"{parts[0]}/{parts[1]}"

    previous = None
    while previous != text:
        previous, text = text, _FRAC_RE.sub(repl, text)
    return text


def normalize(answer: str, *, strip_units: bool = True) -> str:
    """A canonical text for an answer: presentation removed, spaces removed, fractions as a/b."""
    return _normalize_with_unit(answer, strip_units=strip_units)[0]


def _normalize_with_unit(answer: str, *, strip_units: bool = True) -> tuple[str, str | None]:
    """`normalize`'s text and the unit it stripped (None: none)."""
    text = str(answer).strip()
    boxed = last_boxed(text) if ("\\boxed" in text or "\\fbox" in text) else None
    if boxed is not None:
        text = boxed
    text = text.replace("\n", " ").strip()
    for wrapper in ("$$", "$", r"\[", r"\("):
        closing = {r"\[": r"\]", r"\(": r"\)"}.get(wrapper, wrapper)
        if text.startswith(wrapper) and text.endswith(closing) and len(text) > len(wrapper) + len(closing) - 1:
            text = text[len(wrapper) : len(text) - len(closing)].strip()
    listed = bool(_LISTED_RE.search(text))  # before LaTeX spacing becomes spaces: "10,\\! 080" is one number
    text = _SPACING_RE.sub(" ", text)
    for token in _DROPPED:
        text = text.replace(token, "")
    for old, new in _ALIASES:
        text = re.sub(re.escape(old) + r"(?![A-Za-z])", _literal(new), text)
    text = _unwrap_commands(text, _WRAPPERS)
    for token in _DEGREES:
        text = text.replace(token, "")
    text = text.replace(r"\%", "").replace("%", "")
    for sign in _CURRENCY:
        text = text.replace(sign, "")
    text = text.replace(_UNICODE_PI, r"\pi ").replace(_BRACED_COMMA, ",")
    text = re.sub(r"\bdegrees?\b", "", text).strip()
    unit = None
    if strip_units:
        text, unit = _strip_units(text)
    text = text.rstrip(".").strip()
    text = re.sub(r"\s+", "", text)
    lhs = _LHS_RE.match(text)
    if lhs and text.count("=") <= 1:
        text = text[lhs.end() :]
    text = _SQRT_RE.sub(r"\\sqrt{\1}", text)
    text = _SCRIPT_RE.sub(r"\1\2", text)
    text = _mixed_number(text)
    text = _frac_to_slash(text)
    previous = None
    while previous != text:
        previous, text = text, _PAREN_ATOM_RE.sub(r"\1\2", text)
    text = _PAREN_SIGNED_RE.sub(r"\1", text)
    if not listed and _THOUSANDS_RE.match(text):
        text = text.replace(",", "")
    if re.fullmatch(r"\(?[A-Za-z]\)?", text):
        text = text.strip("()")
    if re.fullmatch(r"[A-Za-z]+", text):
        text = text.lower()
    return text.lstrip("+"), unit


def _mixed_number(text: str) -> str:
    match = _MIXED_RE.match(text)
    if not match or int(match.group(4)) == 0:
        return text
    value = int(match.group(2)) + Fraction(int(match.group(3)), int(match.group(4)))
    value = -value if match.group(1) == "-" else value
    return f"{value.numerator}/{value.denominator}" if value.denominator != 1 else str(value.numerator)


def to_fraction(text: str) -> Fraction | None:
    """An exact value for a normalised plain number or a/b, else None."""
    text = text.strip()
    if _NUMBER_RE.match(text):
        return Fraction(text)
    match = _FRACTION_RE.match(text)
    if match:
        denominator = Fraction(match.group(2))
        return Fraction(match.group(1)) / denominator if denominator else None
    return None


def _literal(text: str) -> Callable[[re.Match[str]], str]:
    """A replacement that inserts `text` as is (re.sub would read its backslashes as escapes)."""
    return lambda _m: text


def _split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split at `sep` outside any brackets or braces."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _bracketed(text: str) -> tuple[str, list[str], str] | None:
    """(open, elements, close) for a tuple/interval/set whose outer brackets enclose everything."""
    if text.startswith(r"\{") and text.endswith(r"\}"):
        return "{", _split_top_level(text[2:-2]), "}"
    if len(text) < 2 or text[0] not in _OPEN or text[-1] not in _CLOSE:
        return None
    depth = 0
    for i, ch in enumerate(text):
        depth += 1 if ch in "([{" else -1 if ch in ")]}" else 0
        if depth == 0 and i < len(text) - 1:
            return None  # e.g. (0,9)\cup(9,36): the first bracket closes early
    elements = _split_top_level(text[1:-1])
    return (text[0], elements, text[-1]) if len(elements) > 1 else None


def _matrix(text: str) -> list[list[str]] | None:
    match = _MATRIX_RE.match(text)
    if not match:
        return None
    rows = [row for row in match.group(2).split("\\\\") if row]
    return [row.split("&") for row in rows]


def _atoms_equal(a: str, b: str) -> bool:
    if a == b:
        return True
    fa, fb = to_fraction(a), to_fraction(b)
    return fa is not None and fb is not None and fa == fb


def _lists_equal(xs: list[str], ys: list[str], *, ordered: bool) -> bool:
    if len(xs) != len(ys):
        return False
    if all(_normalised_equal(x, y) for x, y in zip(xs, ys)):
        return True
    if ordered or len(xs) > MAX_PERMUTED_ITEMS:
        return False
    return any(all(_normalised_equal(x, y) for x, y in zip(xs, perm)) for perm in permutations(ys))


def _normalised_equal(a: str, b: str) -> bool:
    if _atoms_equal(a, b):
        return True
    ma, mb = _matrix(a), _matrix(b)
    if ma is not None and mb is not None:
        return len(ma) == len(mb) and all(_lists_equal(ra, rb, ordered=True) for ra, rb in zip(ma, mb))
    ba, bb = _bracketed(a), _bracketed(b)
    if ba is not None and bb is not None:
        same_brackets = ba[0] == bb[0] and ba[2] == bb[2]
        return same_brackets and _lists_equal(ba[1], bb[1], ordered=ba[0] != "{")
    if ba is None and bb is None:
        la, lb = _split_top_level(a), _split_top_level(b)
        if len(la) > 1 and len(lb) > 1:
            return _lists_equal(la, lb, ordered=False)
    return False


def math_equal(prediction: str | None, gold: str | None) -> bool:
    """True when `prediction` denotes the same answer as `gold` (MATH conventions)."""
    if prediction is None or gold is None:
        return False
    (pred, pred_unit), (ref, ref_unit) = _normalize_with_unit(prediction), _normalize_with_unit(gold)
    if not pred or not ref:
        return False
    if pred_unit is not None and ref_unit is not None and pred_unit != ref_unit:
        return False  # '5 hours' is not '5 minutes'; a unit on one side only is presentation
    return _normalised_equal(pred, ref)

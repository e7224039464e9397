"""The simulated pool's words: per-item wrong-answer pools, answer identity, and output text that
goes through the same parsing as a real model's ("... Final answer: 42")."""

from __future__ import annotations

import re
from fractions import Fraction

from rolegraph.items import AnswerKey
from rolegraph.sim.draws import unit_hash

WRONG_POOL_SIZE = 3
WRONG_POOL_WEIGHTS = (0.55, 0.3, 0.15)  # skewed, so that wrong votes can agree
# Free-form answers (math, code) go wrong in more ways than a choice among four letters: a wider pool with a
# flatter head, so that wrong answers agree less often than right ones and agreement says something.
FREE_FORM_POOL_SIZE = 6
FREE_FORM_WEIGHTS = (0.35, 0.22, 0.15, 0.12, 0.09, 0.07)
WRONG_NUMBER_DELTAS = (1, -1, 2, 10, -2, 5, 3, -10)  # the slips a wrong numeric answer is off by (off-by-one first)
FREE_FORM_FAMILIES = frozenset({"math", "code"})
# Multiple choice: one attractive distractor per item draws most wrong picks, for every model (common biases).
CHOICE_WEIGHTS = (0.55, 0.3, 0.15)
CHARS_PER_TOKEN = 4
_REASONING_LINES = (
    "Restate what is given and what is asked.",
    "Identify the quantities involved and how they relate.",
    "Work through the intermediate values one at a time.",
    "Check each intermediate result against the question.",
    "Combine the partial results into the quantity asked for.",
    "Re-read the question to make sure the units and form match.",
)
_STEP_WORDS = ("First", "Next", "Then", "After that", "Again", "Finally")
_PLAN_LINES = (
    "Extract the facts the question gives.",
    "Decide which intermediate results are needed.",
    "Compute or look up each intermediate result.",
    "Combine them and check the answer against the question.",
)
_QA_FALLBACK_WRONG = ("unknown", "none of the above", "it is not stated")


def approx_tokens(text: str) -> int:
    """Token estimate used throughout the sim (about four characters a token)."""
    return max(1, len(text) // CHARS_PER_TOKEN)


_INT_RE = re.compile(r"-?\d+")


def _as_number(text: str) -> Fraction | None:
    t = text.strip().replace(",", "").replace("$", "").rstrip(".")
    if _INT_RE.fullmatch(t):  # the common case, without building a Fraction
        return Fraction(int(t))
    try:
        return Fraction(t)
    except (ValueError, ZeroDivisionError):
        return None


def _fmt_number(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def norm_answer(answer: str | None, family: str) -> str | None:
    """The identity the sim uses to decide that two answers are the same answer."""
    if answer is None:
        return None
    if family == "code":
        return re.sub(r"\s+", " ", answer).strip()
    if family == "mmlu":
        return answer.strip().upper()[:1] or None
    if family == "qa":
        t = re.sub(r"\b(a|an|the)\b", " ", answer.lower())
        t = re.sub(r"[^\w\s]", "", t)
        return " ".join(t.split()) or None
    t = answer.strip().replace(",", "").replace("$", "").rstrip(".")
    if _INT_RE.fullmatch(t):
        return str(int(t))
    num = _as_number(t)
    if num is not None:
        return _fmt_number(num)
    return re.sub(r"\s+", "", answer).replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")


def wrong_pool(key: AnswerKey) -> list[str]:
    """A small, fixed set of plausible wrong answers for the item."""
    gold = key.gold
    if key.family == "mmlu":
        letters = [c for c in "ABCD" if c != gold.strip().upper()[:1]]
        letters.sort(key=lambda c: unit_hash("wrong-letter", key.item_id, c))
        return letters[:WRONG_POOL_SIZE]
    if key.family == "code":
        return [f"{gold.rstrip()}\n\n# variant {i}\nraise SystemExit({i + 1})\n" for i in range(FREE_FORM_POOL_SIZE)]
    if key.family == "qa":
        if gold.strip().lower() in ("yes", "no"):
            return ["no" if gold.strip().lower() == "yes" else "yes"]
        own = norm_answer(gold, "qa")
        pool = [d for d in key.distractors if norm_answer(d, "qa") != own]
        pool = sorted(dict.fromkeys(pool), key=lambda d: unit_hash("wrong-qa", key.item_id, d))
        return (pool + [w for w in _QA_FALLBACK_WRONG if w not in pool])[:WRONG_POOL_SIZE]
    num = _as_number(gold)
    if num is None:
        return [f"{gold}+{i + 1}" for i in range(FREE_FORM_POOL_SIZE)]
    by_draw = sorted(WRONG_NUMBER_DELTAS, key=lambda d: unit_hash("wrong-num", key.item_id, d))
    offsets = by_draw[: FREE_FORM_POOL_SIZE - 1]
    candidates = [num * 2 if num != 0 else Fraction(1)] + [num + d for d in offsets]
    candidates = [v for v in dict.fromkeys(candidates) if v != num]  # 2x gold can equal gold + 1, 2, 10
    candidates.sort(key=lambda v: unit_hash("wrong-order", key.item_id, str(v)))
    return [_fmt_number(v) for v in candidates]


def pick_wrong(key: AnswerKey, u: float) -> str:
    """A wrong answer drawn from the item's pool with the skewed weights, by the uniform `u`."""
    return pick_from(wrong_pool(key), u, base_weights(key.family))


def base_weights(family: str) -> tuple[float, ...]:
    """World 0's weights of an item's wrong answers on `family` (most likely first)."""
    if family in FREE_FORM_FAMILIES:
        return FREE_FORM_WEIGHTS
    return CHOICE_WEIGHTS if family == "mmlu" else WRONG_POOL_WEIGHTS


def skewed_weights(family: str, skew: float) -> tuple[float, ...]:
    """The family's wrong-answer weights raised to `skew` (a world's concentration of errors; 1: as they are)."""
    base = base_weights(family)
    if skew == 1.0:
        return base
    raised = [w**skew for w in base]
    return tuple(w / sum(raised) for w in raised)


def pick_index(size: int, u: float, weights: tuple[float, ...] = WRONG_POOL_WEIGHTS) -> int:
    """The index in a pool of `size` answers that the uniform `u` selects under the skewed weights."""
    weights = weights[:size]
    total = sum(weights)
    acc = 0.0
    for i, w in enumerate(weights):
        acc += w / total
        if u < acc:
            return i
    return size - 1


def pick_from(pool: list[str] | tuple[str, ...], u: float, weights: tuple[float, ...] = WRONG_POOL_WEIGHTS) -> str:
    """The answer of `pool` (an item's wrong pool) that the uniform `u` selects under the skewed weights."""
    return pool[pick_index(len(pool), u, weights)]


def reasoning_salt(model_id: str, role: str) -> str:
    """Which filler a model writes in a role (the text carries no information, so not per item)."""
    return f"{model_id}|{role}"


def reasoning(n_tokens: int, salt: str) -> str:
    """Filler reasoning of about `n_tokens` tokens, so token counts and context lengths are real.

    It holds no digits and no lone capital letters: a reply cut before its final-answer line (at
    max_tokens) leaves the parser nothing that looks like an answer, as in a real model's cut reply.
    """
    lines, size, i = [], 0, 0
    start = int(unit_hash("reasoning", salt) * len(_REASONING_LINES))
    while size < n_tokens * CHARS_PER_TOKEN:
        line = f"{_STEP_WORDS[i % len(_STEP_WORDS)]}: {_REASONING_LINES[(start + i) % len(_REASONING_LINES)]}"
        lines.append(line)
        size += len(line) + 1
        i += 1
    return "\n".join(lines)


def fit_chars(text: str, max_tokens: int) -> str:
    """The longest prefix of `text` that `approx_tokens` counts as at most `max_tokens` tokens."""
    limit = max(0, max_tokens) * CHARS_PER_TOKEN + CHARS_PER_TOKEN - 1
    return text if len(text) <= limit else text[:limit]


def fit_lines(text: str, max_tokens: int) -> str:
    """Whole lines of `text` within `max_tokens` (a model ending its reply at a line end; at least part
    of the first line)."""
    limit = max(0, max_tokens) * CHARS_PER_TOKEN + CHARS_PER_TOKEN - 1
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit + 1)
    return text[:cut] if cut > 0 else text[:limit]


_FINAL_LINE_RE = re.compile(r"(?im)^\s*final answer\s*[:：].*$")


def strip_final(text: str) -> str:
    """A predecessor's reasoning without its final-answer lines (what a refiner carries over).

    Only the text from the first line that mentions a final answer is scanned (usually the last line).
    """
    first = text.lower().find("final answer")
    if first < 0:
        return text.strip()
    cut = text.rfind("\n", 0, first) + 1
    return (text[:cut] + _FINAL_LINE_RE.sub("", text[cut:])).strip()


FENCE = "```"


def restate(text: str) -> str:
    """What a refiner carries over of a predecessor's reply: its reasoning without final-answer lines and
    without code fences. A restatement is cut to fit the reply; a cut fence would pair with the node's own
    answer block and hide its code from the parser (a model condensing its inputs does not do that)."""
    body = strip_final(text)
    if FENCE not in body:
        return body
    return "\n".join(line for line in body.split("\n") if not line.lstrip().startswith(FENCE))


def render_answer(answer: str, family: str) -> str:
    if family == "code":
        return f"```python\n{answer.rstrip()}\n```\nFinal answer: see the code above."
    return f"Final answer: {answer}"


def plan_text(question: str, n_tokens: int) -> str:
    subs = [s.strip(" ?.") for s in re.split(r"\?|\band\b|;", question) if len(s.strip()) > 12][:3]
    lines = ["Plan:"] + [f"{i + 1}. {line}" for i, line in enumerate(_PLAN_LINES)]
    if subs:
        lines += ["Sub-questions:"] + [f"- {s}?" for s in subs]
    body = "\n".join(lines)
    pad = n_tokens * CHARS_PER_TOKEN - len(body)
    return body + ("\nNotes: " + "keep each step short. " * max(0, pad // 22) if pad > 0 else "")

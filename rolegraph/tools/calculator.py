"""A safe arithmetic evaluator: parse to an AST and walk only the nodes arithmetic needs (no eval).

Models write `17*23`, `2^10`, `sqrt(2)/3`, `12 × 4`: all of those work. Anything else (names,
attributes, calls outside the whitelist, comprehensions) is refused with a one-line reason, and
the sizes that could hang or exhaust memory (huge powers, integers with thousands of digits) are
refused before they are computed.

What is exact, and what is not (the tool's description says the same to the model): integers, and
division and negative powers of integers, are computed as exact fractions (`(10**20+1)/1` is
100000000000000000001, not 1e+20); a result that is not a whole number is shown exactly when it is a
short terminating decimal, else to SIGNIFICANT_DIGITS digits. Decimals (`0.1`), the functions and `pi`,
`e` are floating point. A result that overflows to infinity or is not a number is an error, never `inf`.
Thousands separators are refused with a message that says so: `1,000` cannot be told from the two
arguments of `max(1,000)`, and a model that writes `1,5` may mean 1.5.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable
from decimal import Decimal, Inexact, localcontext
from fractions import Fraction
from typing import Any

from rolegraph.tools.base import Tool, ToolResult

MAX_EXPRESSION_CHARS = 500
MAX_EXPONENT = 10_000  # integer powers above this are refused before computing
MAX_INT_BITS = 4096  # ~1233 decimal digits: any larger intermediate integer is refused
MAX_DEPTH = 60  # nesting of the expression tree
SIGNIFICANT_DIGITS = 12  # how floats (and fractions that are no short decimal) are printed for the model
MAX_EXACT_DIGITS = 40  # a fraction whose decimal ends within this many digits is printed exactly
THOUSANDS = re.compile(r"\d,\d{3}(?!\d)")  # 1,000 or 12,345,678: a grouping comma, not an argument list
THOUSANDS_HINT = "write numbers without thousands separators (1000000, not 1,000,000)"

BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
UNARY: dict[type, Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sqrt": math.sqrt,
    "log": math.log,
    "log10": math.log10,
    "log2": math.log2,
    "exp": math.exp,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "floor": math.floor,
    "ceil": math.ceil,
}
CONSTANTS = {"pi": math.pi, "e": math.e}
SPELLINGS = {"^": "**", "×": "*", "÷": "/", "−": "-"}  # how models and people write operators


class CalculatorError(ValueError):
    """The expression is not allowed or cannot be computed; the message is for the model."""


def _exact(value: Any) -> bool:
    """An int or a Fraction (kept exact), not a bool or a float."""
    return isinstance(value, (int, Fraction)) and not isinstance(value, bool)


def _check_size(value: Any) -> Any:
    """`value` if it is a finite number of a size the next step can handle; a whole Fraction becomes an int."""
    if isinstance(value, bool):
        raise CalculatorError("booleans are not numbers here")
    if isinstance(value, Fraction):
        if max(value.numerator.bit_length(), value.denominator.bit_length()) > MAX_INT_BITS:
            raise CalculatorError(f"result too large (more than {MAX_INT_BITS} bits)")
        return value.numerator if value.denominator == 1 else value
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise CalculatorError(f"result too large (more than {MAX_INT_BITS} bits)")
    if isinstance(value, float) and math.isnan(value):
        raise CalculatorError("result is not a number")
    if isinstance(value, float) and math.isinf(value):
        raise CalculatorError("result too large (overflows to infinity)")
    return value


def _divide(left: Any, right: Any) -> Any:
    """`/`: exact (a Fraction) between integers and fractions, floating point otherwise."""
    if _exact(left) and _exact(right):
        return Fraction(left) / Fraction(right)
    return left / right


def _bits(value: Any) -> int:
    if isinstance(value, Fraction):
        return max(value.numerator.bit_length(), value.denominator.bit_length())
    return abs(value).bit_length()


def _power(base: Any, exponent: Any) -> Any:
    if isinstance(exponent, int) and abs(exponent) > MAX_EXPONENT and abs(base) not in (0, 1):
        raise CalculatorError(f"exponent {exponent} too large (limit {MAX_EXPONENT})")
    if _exact(base) and isinstance(exponent, int) and exponent != 0 and abs(base) not in (0, 1):
        if _bits(base) * abs(exponent) > MAX_INT_BITS * 2:
            raise CalculatorError(f"result too large (more than {MAX_INT_BITS} bits)")
        if exponent < 0:  # 3**-1 is the fraction 1/3, not the float 0.333...
            base = Fraction(base)
    result = base**exponent
    if isinstance(result, complex):
        raise CalculatorError("complex result (negative number to a fractional power)")
    return result


def _eval(node: ast.AST, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise CalculatorError("expression nested too deeply")
    if isinstance(node, ast.Expression):
        return _eval(node.body, depth + 1)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return _check_size(node.value)  # 1e400 is read as inf
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise CalculatorError(f"unknown name '{node.id}'")
    if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
        return UNARY[type(node.op)](_eval(node.operand, depth + 1))
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        left, right = _eval(node.left, depth + 1), _eval(node.right, depth + 1)
        if isinstance(node.op, ast.Pow):
            return _check_size(_power(left, right))
        if isinstance(node.op, ast.Div):
            return _check_size(_divide(left, right))
        return _check_size(BINARY[type(node.op)](left, right))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        func = FUNCTIONS.get(node.func.id)
        if func is None:
            raise CalculatorError(f"unknown function '{node.func.id}' (allowed: {', '.join(FUNCTIONS)})")
        return _check_size(func(*[_eval(arg, depth + 1) for arg in node.args]))
    if isinstance(node, ast.Tuple):  # `1,000+1` parses as the pair (1, 0+1)
        raise CalculatorError(f"a comma outside a function call: {THOUSANDS_HINT}")
    raise CalculatorError(f"not allowed in arithmetic: {type(node).__name__}")


def evaluate(expression: str) -> int | float | Fraction:
    """The value of an arithmetic expression (a Fraction only when exact and not whole), or CalculatorError
    with the reason."""
    text = expression.strip().rstrip("=").strip()
    if not text:
        raise CalculatorError("empty expression")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise CalculatorError(f"expression longer than {MAX_EXPRESSION_CHARS} characters")
    for spelled, op in SPELLINGS.items():
        text = text.replace(spelled, op)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise CalculatorError(f"not an arithmetic expression ({exc.msg})") from None
    try:
        return _eval(tree)
    except CalculatorError:
        raise
    except ZeroDivisionError:
        raise CalculatorError("division by zero") from None
    except OverflowError:
        raise CalculatorError("result too large (overflow)") from None
    except (ValueError, TypeError) as exc:
        hint = f"; {THOUSANDS_HINT}" if THOUSANDS.search(text) else ""  # sqrt(1,000): two arguments
        raise CalculatorError(f"cannot compute: {exc}{hint}") from None


def _format_fraction(value: Fraction) -> str:
    """Exactly when its decimal ends within MAX_EXACT_DIGITS digits (7/4: 1.75), else SIGNIFICANT_DIGITS."""
    with localcontext() as ctx:
        ctx.prec = MAX_EXACT_DIGITS
        ctx.traps[Inexact] = False
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        if not ctx.flags[Inexact]:
            return format(exact, "f")
        ctx.prec = SIGNIFICANT_DIGITS
        return format(Decimal(value.numerator) / Decimal(value.denominator), "g")


def format_number(value: int | float | Fraction) -> str:
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else _format_fraction(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, float):
        return format(value, f".{SIGNIFICANT_DIGITS}g")
    return str(value)


class Calculator(Tool):
    name = "calculator"
    searches = False  # it computes: a searcher never sends its queries here (agents/agent.py)
    description = (
        "Evaluate an arithmetic expression: + - * / // % ** (or ^), parentheses, "
        f"{', '.join(FUNCTIONS)}, pi, e. Whole numbers and their fractions are exact; decimals, functions, "
        f"pi and e are floating point (results shown to {SIGNIFICANT_DIGITS} significant digits). "
        "Write numbers without thousands separators. Example: (17*23) + sqrt(16)"
    )
    parameters = {
        "type": "object",
        "properties": {"expression": {"type": "string", "description": "e.g. 17*23"}},
        "required": ["expression"],
    }
    timeout_s = 5.0

    async def _run(self, expression: str) -> ToolResult:
        try:
            value = evaluate(expression)
        except CalculatorError as exc:
            return ToolResult(ok=False, text=f"calculator: {exc}")
        return ToolResult(ok=True, text=format_number(value), data=value)

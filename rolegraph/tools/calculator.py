"""A safe arithmetic evaluator: parse to an AST and walk only the nodes arithmetic needs (no eval).

Models write `17*23`, `2^10`, `sqrt(2)/3`, `12 × 4`: all of those work. Anything else (names,
attributes, calls outside the whitelist, comprehensions) is refused with a one-line reason, and
the sizes that could hang or exhaust memory (huge powers, integers with thousands of digits) are
refused before they are computed.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from rolegraph.tools.base import Tool, ToolResult

MAX_EXPRESSION_CHARS = 500
MAX_EXPONENT = 10_000  # integer powers above this are refused before computing
MAX_INT_BITS = 4096  # ~1233 decimal digits: any larger intermediate integer is refused
MAX_DEPTH = 60  # nesting of the expression tree
SIGNIFICANT_DIGITS = 12  # how floats are printed for the model

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


def _check_size(value: Any) -> Any:
    if isinstance(value, bool):
        raise CalculatorError("booleans are not numbers here")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise CalculatorError(f"result too large (more than {MAX_INT_BITS} bits)")
    if isinstance(value, float) and math.isnan(value):
        raise CalculatorError("result is not a number")
    return value


def _power(base: Any, exponent: Any) -> Any:
    if isinstance(exponent, int) and abs(exponent) > MAX_EXPONENT and abs(base) not in (0, 1):
        raise CalculatorError(f"exponent {exponent} too large (limit {MAX_EXPONENT})")
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and base not in (0, 1, -1):
        if abs(base).bit_length() * exponent > MAX_INT_BITS * 2:
            raise CalculatorError(f"result too large (more than {MAX_INT_BITS} bits)")
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
        return node.value
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
        return _check_size(BINARY[type(node.op)](left, right))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        func = FUNCTIONS.get(node.func.id)
        if func is None:
            raise CalculatorError(f"unknown function '{node.func.id}' (allowed: {', '.join(FUNCTIONS)})")
        return _check_size(func(*[_eval(arg, depth + 1) for arg in node.args]))
    raise CalculatorError(f"not allowed in arithmetic: {type(node).__name__}")


def evaluate(expression: str) -> int | float:
    """The value of an arithmetic expression, or CalculatorError with the reason."""
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
        raise CalculatorError(f"cannot compute: {exc}") from None


def format_number(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, float):
        return format(value, f".{SIGNIFICANT_DIGITS}g")
    return str(value)


class Calculator(Tool):
    name = "calculator"
    description = (
        "Evaluate an arithmetic expression exactly: + - * / // % ** (or ^), parentheses, "
        f"{', '.join(FUNCTIONS)}, pi, e. Example: (17*23) + sqrt(16)"
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

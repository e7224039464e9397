"""The calculator computes arithmetic exactly and refuses everything else, quickly."""
from __future__ import annotations

import asyncio
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rolegraph.tools.calculator import MAX_EXPONENT, Calculator, CalculatorError, evaluate, format_number


@pytest.mark.parametrize("expression, expected", [
    ("17*23", 391),
    ("2^10", 1024),
    ("2**3**2", 512),
    ("-(3 + 4) * 2", -14),
    ("7 // 2 + 7 % 2", 4),
    ("12 × 4 ÷ 3", 16.0),
    ("sqrt(16) + abs(-2) + max(1, 5, 3) - min(4, 2)", 9.0),
    ("floor(2.7) + ceil(2.1) + round(2.567, 2)", 2 + 3 + 2.57),
    ("log(e) + log(8, 2) + log10(1000) + exp(0)", 1 + 3 + 3 + 1),
    ("17*23 =", 391),
    ("(" * 100 + "1" + ")" * 100, 1),
])
def test_evaluates(expression, expected):
    assert evaluate(expression) == pytest.approx(expected)


def test_constants():
    assert evaluate("pi") == math.pi and evaluate("2*e") == 2 * math.e
    assert evaluate("sin(pi/2) + cos(0)") == pytest.approx(2.0)


@pytest.mark.parametrize("expression, fragment", [
    ("__import__('os').system('true')", "not allowed"),
    ("__import__('os')", "unknown function"),
    ("eval('1')", "unknown function"),
    ("().__class__", "not allowed"),
    ("x + 1", "unknown name"),
    ("'a' * 3", "not allowed"),
    ("[1, 2]", "not allowed"),
    ("1/0", "division by zero"),
    ("10**100000", "too large"),
    ("9**9**9", "too large"),
    ("2**4000 * 2**4000", "too large"),
    ("exp(1000)", "too large"),
    ("sqrt(-1)", "cannot compute"),
    ("(-8) ** 0.5", "complex"),
    ("1 +", "not an arithmetic expression"),
    ("", "empty"),
    ("1+" * 400 + "1", "longer than"),
    ("-" * 100 + "1", "nested too deeply"),
])
def test_refuses(expression, fragment):
    with pytest.raises(CalculatorError) as err:
        evaluate(expression)
    assert fragment in str(err.value)


def test_exponent_limit_is_the_named_one():
    assert evaluate(f"2**{MAX_EXPONENT // 10}") == 2 ** (MAX_EXPONENT // 10)
    with pytest.raises(CalculatorError):
        evaluate(f"2**{MAX_EXPONENT + 1}")
    assert evaluate(f"1**{MAX_EXPONENT * 10}") == 1


@settings(deadline=None)  # no timing assertions: a loaded CI machine must not fail this
@given(st.integers(-10**6, 10**6), st.integers(-10**6, 10**6), st.sampled_from(["+", "-", "*", "//", "%"]))
def test_matches_python_integer_arithmetic(a, b, op):
    expression = f"({a}) {op} ({b})"
    if op in ("//", "%") and b == 0:
        with pytest.raises(CalculatorError):
            evaluate(expression)
    else:
        assert evaluate(expression) == {"+": a + b, "-": a - b, "*": a * b,
                                        "//": a // b if b else 0, "%": a % b if b else 0}[op]


def test_format_number():
    assert format_number(391) == "391"
    assert format_number(16.0) == "16"
    assert format_number(1 / 3) == "0.333333333333"


def test_tool_results():
    calc = Calculator()
    ok = asyncio.run(calc.call(expression="17*23"))
    assert ok.ok and ok.text == "391" and ok.data == 391
    bad = asyncio.run(calc.call(expression="import os"))
    assert not bad.ok and bad.text.startswith("calculator:")
    assert calc.openai_schema()["function"]["name"] == "calculator"


# --- what "exact" means, infinity, thousands separators (a user probe's findings) -------------------------

@pytest.mark.parametrize("expression, shown", [
    ("(10**20+1)/1", "100000000000000000001"),  # was 1e+20: true division went through a float
    ("(10**20+1)/2", "50000000000000000000.5"),
    ("10**30/3*3", str(10**30)),
    ("7/4", "1.75"),
    ("1/3", "0.333333333333"),
    ("3**-1*3", "1"),
    ("10**-20", "0.00000000000000000001"),  # a negative power of an integer is exact too, not the float 1e-20
    ("round(7/3, 2)", "2.33"),
])
def test_integer_division_is_exact(expression, shown):
    assert format_number(evaluate(expression)) == shown


def test_the_description_says_what_is_floating_point():
    text = Calculator.description
    assert "exactly" not in text and "floating point" in text and "thousands separators" in text


@pytest.mark.parametrize("expression", ["1e400", "-1e400", "1e308*10", "1e308 + 1e308"])
def test_infinity_is_an_error_not_a_result(expression):
    with pytest.raises(CalculatorError, match="too large"):
        evaluate(expression)
    res = asyncio.run(Calculator().call(expression=expression))
    assert not res.ok and res.text.startswith("calculator: result too large")  # was ok=True, "inf"


@pytest.mark.parametrize("expression", ["1,000+1", "1,000", "2 * 1,000,000"])
def test_thousands_separators_get_a_message_that_says_so(expression):
    with pytest.raises(CalculatorError) as err:
        evaluate(expression)
    message = str(err.value)
    assert "thousands separators" in message and "Tuple" not in message


def test_a_grouping_comma_inside_a_call_is_hinted_too():
    with pytest.raises(CalculatorError, match="thousands separators"):
        evaluate("sqrt(1,000)")
    assert evaluate("max(1, 5)") == 5  # argument commas still work


@settings(deadline=None)
@given(st.integers(-10**30, 10**30), st.integers(-10**30, 10**30).filter(bool))
def test_division_of_integers_matches_fractions(a, b):
    from fractions import Fraction

    assert evaluate(f"({a}) / ({b})") == Fraction(a, b)


def test_an_expression_of_exactly_the_length_limit_is_evaluated():
    """MAX_EXPRESSION_CHARS (500) characters are allowed; one more is refused."""
    expression = "7" * 500  # one 500-digit integer (about 1660 bits, under MAX_INT_BITS)
    assert evaluate(expression) == int(expression)
    with pytest.raises(CalculatorError, match="longer than 500 characters"):
        evaluate(expression + "1")


def test_a_whole_result_of_exact_arithmetic_is_an_int_not_a_fraction():
    """evaluate's contract: a Fraction only when exact and not whole, so 6/3 is the int 2 (the tool's data)."""
    assert type(evaluate("6/3")) is int and evaluate("6/3") == 2
    assert type(evaluate("2**-1*4")) is int

import pytest

from rolegraph.tasks.math_norm import math_equal, normalize, to_fraction

EQUIVALENT = [
    (r"\frac{1}{2}", "1/2"),
    (r"\frac{1}{2}", "0.5"),
    (r"\dfrac{1}{2}", ".5"),
    (r"\tfrac12", "0.50"),
    (r"\frac 59", r"\frac{5}{9}"),
    (r"\frac9{19}", "9/19"),
    (r"-\frac{35}{9}", r"\frac{-35}{9}"),
    (r"\left( 3, \frac{\pi}{2} \right)", r"(3,\frac{\pi}{2})"),
    (r"\left[ \frac{\pi^2}{8}, \frac{5 \pi^2}{4} \right]", r"[\pi^2/8, 5\pi^2/4]"),
    (r"90^\circ", "90"),
    (r"90^{\circ}", "90 degrees"),
    (r"\frac{270}7\text{ degrees}", r"\frac{270}{7}"),
    (r"\text{Evelyn}", "Evelyn"),
    (r"\text{east}", "East"),
    (r"\text{(C)}", "C"),
    (r"10,\!080", "10080"),
    (r"11,\! 111,\! 111,\! 100", "11111111100"),
    (r"\$32,\!348", "32348"),
    (r"\$18.90", "18.9"),
    ("1,000", "1000"),
    ("50\\%", "50"),
    ("3.0", "3"),
    ("3.", "3"),
    ("+5", "5"),
    (".0000672", "6.72e-5"),
    (r"864 \mbox{ inches}^2", "864"),
    (r"5.4 \text{ cents}", "5.4"),
    (r"15\mbox{ cm}^2", "15"),
    (r"137 \frac{1}{2}", "137.5"),
    (r"1\frac{4}{5}", "9/5"),
    ("x=5", "5"),
    ("x = 5", "x=5"),
    (r"x \in [-2,7]", "[-2, 7]"),
    ("y = 2x + 3", "2x+3"),
    ("1,-2", "-2, 1"),
    (r"\{1\pm\sqrt{5},-2\}", r"\{-2,1\pm\sqrt{5}\}"),
    (r"\frac{\sqrt{3}}{3}", r"\sqrt3/3"),
    (r"\frac{11+9a}{20}", "(11+9a)/20"),
    ("11\\sqrt2", "11 \\sqrt{2}"),
    (r"4210_{5}", "4210_5"),
    (r"\boxed{7}", "7"),
    ("$7$", "7"),
    (r"(-\infty, 0]", r"(-\infty,0]"),
    (r"\begin{pmatrix} -1/3 \\ 2/3 \\ 5/3 \end{pmatrix}",
     r"\begin{pmatrix} -\frac13 \\ \frac{2}{3} \\ \frac53 \end{pmatrix}"),
    (r"\begin{pmatrix} -1 & 0 \\ 0 & -1 \end{pmatrix}", r"\begin{pmatrix}-1&0\\0&-1\end{pmatrix}"),
]

NOT_EQUIVALENT = [
    ("1/2", "2"),
    ("(1,2)", "[1,2]"),
    ("(1,2)", "(2,1)"),
    ("(3,4]", "(3,4)"),
    ("12", "1,2"),
    (r"\frac{1}{3}", "0.333"),
    ("3", "-3"),
    ("x=5", "6"),
    (r"\sqrt{2}", "2"),
    ("5", "50"),
    ("2\\pi", "2"),
    ("(2)(3)", "23"),
    (r"(0,9) \cup (9,36)", "(0,36)"),
    ("1,2,3", "1,2"),
    (r"\text{(A)}", "B"),
    (r"1\frac{4}{5}", "14/5"),
    (r"\begin{pmatrix}1\\2\end{pmatrix}", r"\begin{pmatrix}2\\1\end{pmatrix}"),
    ("5 \\text{ cm}", "5 \\text{ cm}^3 x"),
]


@pytest.mark.parametrize(("a", "b"), EQUIVALENT)
def test_equivalent_pairs_are_equal_both_ways(a, b):
    assert math_equal(a, b), (normalize(a), normalize(b))
    assert math_equal(b, a)


@pytest.mark.parametrize(("a", "b"), NOT_EQUIVALENT)
def test_different_answers_are_not_equal(a, b):
    assert not math_equal(a, b), (normalize(a), normalize(b))
    assert not math_equal(b, a)


@pytest.mark.parametrize("answer", [a for pair in EQUIVALENT + NOT_EQUIVALENT for a in pair])
def test_every_answer_equals_itself_boxed_and_in_dollars(answer):
    assert math_equal(answer, answer)
    assert math_equal(f"\\boxed{{{answer}}}", answer)
    assert math_equal(f"${answer}$", answer)


def test_missing_or_blank_answers_are_never_equal():
    assert not math_equal(None, "1")
    assert not math_equal("1", None)
    assert not math_equal("", "")
    assert not math_equal("  ", "0")


def test_to_fraction_reads_numbers_and_simple_quotients_only():
    assert to_fraction("0.25") == to_fraction("1/4") == to_fraction("(1)/(4)")
    assert to_fraction("-3/6") == to_fraction("-0.5")
    assert to_fraction("1/0") is None
    assert to_fraction("x/2") is None


@pytest.mark.parametrize(("prediction", "gold"), [
    ("€12", "12"),
    ("£28,080", "28080"),
    ("28,080 £", "28080"),
    (r"\pounds 7.50", "7.5"),
    ("π", r"\pi"),
    ("4π", r"4\pi"),
    ("2πr", r"2\pi r"),
    ("14{,}000", "14000"),
    ("5.4 cents", r"5.4 \text{ cents}"),  # the same unit on both sides
    ("3 in", r"3\text{ inches}"),  # an abbreviation and a plural of one unit
    ("10 hour", "10 hours"),
    ("20 units", r"20\text{ square units}"),
    ("15 square cm", r"15\mbox{ cm}^2"),
    ("5.4", r"5.4 \text{ cents}"),  # a unit on one side only is presentation
])
def test_currency_signs_unicode_pi_braced_commas_and_one_unit_are_presentation(prediction, gold):
    assert math_equal(prediction, gold), (normalize(prediction), normalize(gold))


@pytest.mark.parametrize(("prediction", "gold"), [
    ("5.4 dollars", r"5.4 \text{ cents}"),
    ("5 hours", "5 minutes"),
    ("3 feet", "3 inches"),
    ("€12", "13"),
])
def test_a_unit_that_contradicts_the_golds_is_wrong(prediction, gold):
    assert not math_equal(prediction, gold)
    assert not math_equal(gold, prediction)


@pytest.mark.parametrize(("prediction", "gold"), [
    ("3, 1, 2", "1, 2, 3"),  # the solutions of an equation, in any order
    ("6, 5, 4, 3, 2, 1", "1, 2, 3, 4, 5, 6"),  # up to MAX_PERMUTED_ITEMS (6) elements, in any order
    (r"\begin{pmatrix}1&2\\3&4\\\end{pmatrix}", r"\begin{pmatrix}1&2\\3&4\end{pmatrix}"),  # a trailing row break
    ("20 square units", r"20\text{ cm}^2"),  # 'units' says no unit: the cm on the other side is presentation
    ("2 hrs", "2 hours"),  # an abbreviation's plural is the unit
])
def test_lists_matrices_and_unit_words_that_are_the_same_answer(prediction, gold):
    assert math_equal(prediction, gold) and math_equal(gold, prediction)


@pytest.mark.parametrize(("prediction", "gold"), [
    ("7, 6, 5, 4, 3, 2, 1", "1, 2, 3, 4, 5, 6, 7"),  # past MAX_PERMUTED_ITEMS a list is compared in order only
    (r"\begin{pmatrix}1\end{pmatrix}", r"\begin{pmatrix}1\\2\end{pmatrix}"),  # a row short is another matrix
    ("3x", "3"),  # a single letter after a number is a variable, not a unit
    ("1234,567", "1234567"),  # thousands are grouped in threes: 1234,567 is no thousands-separated number
    ("(1,4),(3,2)", "(1,2),(3,4)"),  # a list of pairs: the commas inside a pair do not split the list
])
def test_lists_and_matrices_that_are_not_the_same_answer(prediction, gold):
    assert not math_equal(prediction, gold) and not math_equal(gold, prediction)


@pytest.mark.parametrize(("prediction", "gold"), [
    ("3ab", "3"),  # letters written against a number are a product of variables, not a unit
    ("2xy", "2"),
    ("6abc", "6"),
    ("2 sin x", "2"),  # a function of what follows, not a unit
    (r"3\log 2", "3"),
    (r"4\sqrt{2} \tan x", r"4\sqrt{2}"),
])
def test_algebra_after_a_number_is_not_a_unit(prediction, gold):
    assert not math_equal(prediction, gold) and not math_equal(gold, prediction)


@pytest.mark.parametrize(("prediction", "gold"), [
    ("15cm", "15"),  # a known short unit written against the number
    ("3hrs", "3 hours"),
    ("10mph", "10"),
    ("12dollars", "12"),  # a long word written against the number is a unit
    (r"5\text{cm}", "5"),
    ("2 sec", "2 seconds"),  # 'sec' as a unit, not the secant
])
def test_units_written_against_the_number_are_still_units(prediction, gold):
    assert math_equal(prediction, gold) and math_equal(gold, prediction)

"""Answer extraction (rolegraph.answers): multiple-choice letters and code blocks as real models write them."""
from __future__ import annotations

import pytest

from rolegraph.answers import choice_letter, extract_answer, last_code_block

SOLUTION = "def add(a, b):\n    return a + b\n"


@pytest.mark.parametrize(("text", "letter"), [
    ("Answer: D\nExplanation: option A is wrong because...", "D"),
    ("Looking at option a and option b, I choose C.\nC", "C"),
    ("The answer is a tricky one; overall D is right.", "D"),
    ("Final answer: \\text{B}", "B"),
    ("[B]", "B"),
    ("**Answer:** (c)", "C"),
    ("Answer: $\\boxed{C}$", "C"),
    ("I think it is (C).\nFinal answer: C", "C"),
    ("The answer is B", "B"),
    ("Option: D", "D"),
    ("Final answer: B. Mercury", "B"),
    ("Final answer: A is incorrect, so the answer is C", "C"),
    ("Final answer: **B** is not right; the answer is D", "D"),
    ("Final answer: A is correct", "A"),
    ("Final answer: B is wrong; C", "C"),
    ("Final answer: (A) is incorrect, (C)", "C"),
    ("Final answer: A isn't right, B", "B"),
    ("Final answer: A is incorrect and B is incorrect, leaving D", "D"),
    ("Final answer: not B, it is C", "C"),
    ("Final answer: D, not A", "D"),
    ("Final answer: A. Option B is not correct.", "A"),
])
def test_mmlu_letter_prefers_an_explicit_marker_then_a_lone_line(text, letter):
    assert extract_answer(text, "mmlu") == letter


def test_a_rejected_letter_is_never_the_answer():
    assert extract_answer("Answer: D\nFinal answer: (A) is wrong", "mmlu") is None


@pytest.mark.parametrize("text", ["Final answer: a tricky one", "Answer: a cat", "A cat", "Don't know",
                                  "a", "It is a good question."])
def test_the_article_a_is_never_choice_a(text):
    assert extract_answer(text, "mmlu") is None
    assert choice_letter(text) is None


@pytest.mark.parametrize("text", [
    "```python\r\n" + SOLUTION.replace("\n", "\r\n") + "```",
    "``` python\n" + SOLUTION + "```",
    "~~~python\n" + SOLUTION + "~~~",
    "~~~\n" + SOLUTION + "~~~\nThat adds.",
    "Here:\n```python\n" + SOLUTION + "```\nUsage:\n```python\nprint(add(1, 2))\n```\n",
    "Final answer:\n" + SOLUTION,
    "Final answer: " + SOLUTION,
    "```python\n" + SOLUTION + "```\nTests:\n```python\ndef test_add():\n    assert add(1, 2) == 3\n```\n",
    "```python\n" + SOLUTION + "```\n```python\ndef check(candidate):\n    assert candidate(1, 1) == 2\n```",
])
def test_code_is_taken_from_other_fences_and_before_a_usage_block(text):
    assert extract_answer(text, "code").replace("\r\n", "\n") == SOLUTION


def test_full_function_after_a_final_answer_marker_keeps_its_imports():
    code = "from typing import List\n\n\ndef total(xs: List[int]) -> int:\n    return sum(xs)\n"
    assert extract_answer("Final answer:\n" + code, "code") == code


def test_the_block_defining_the_entry_point_wins():
    text = ("```python\ndef helper(x):\n    return x\n```\n```python\ndef add(a, b):\n    return helper(a) + b\n```\n"
            "```python\ndef unrelated():\n    pass\n```")
    assert "def add" in last_code_block(text, "add")
    assert "def unrelated" in last_code_block(text)


def test_a_block_of_tests_alone_is_still_the_answer():
    tests_only = "def test_add():\n    assert add(1, 2) == 3\n"
    assert extract_answer("```python\n" + tests_only + "```", "code") == tests_only


def test_a_one_line_final_answer_for_code_is_still_the_line():
    assert extract_answer("```\nnot code\n```", "code") == "not code\n"
    assert extract_answer("Final answer: see above", "code") == "see above"


@pytest.mark.parametrize(("text", "expected"), [
    (r"The probability is \frac{1}{6}.", r"\frac{1}{6}"),
    (r"So the ratio is \dfrac{3}{4}", r"\dfrac{3}{4}"),
    (r"The side is \sqrt{2}.", r"\sqrt{2}"),
    (r"The area is $4\pi$.", r"4\pi"),
    (r"x = \frac{13}{6}", r"\frac{13}{6}"),
    (r"so it is $3 + \sqrt{2}$.", r"3 + \sqrt{2}"),
    (r"That leaves (\sqrt{2}).", r"\sqrt{2}"),
    (r"\( \frac{1}{6} \)", r"\frac{1}{6}"),
])
def test_a_last_number_inside_latex_is_read_with_its_expression(text, expected):
    """Without a marker, the last number of `\\frac{1}{6}` is the denominator: the expression is the answer."""
    assert extract_answer(text, "math") == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("so the total is 17 apples", "17"),
    ("He paid $5 and then $12.", "12"),  # two dollar signs around prose are currency, not a math span
    ("In all 1,250 people came", "1250"),
    ("In all 14{,}000 people came", "14000"),
    (r"Half of \frac{1}{2} of the 6 cakes is left: 9", "9"),  # the last number stands alone
])
def test_a_plain_last_number_is_still_the_answer(text, expected):
    assert extract_answer(text, "math") == expected


def test_a_cut_latex_expression_is_no_answer_rather_than_its_last_number():
    assert extract_answer(r"The answer is \frac{1}{6", "math") is None


@pytest.mark.parametrize(("text", "expected"), [
    (r"The answer is $\boxed 5$.", "5"),
    (r"The answer is $\boxed 2$. Note \frac{1}{2}", "2"),  # a later brace is not the \boxed argument
    (r"\boxed {7}", "7"),
    (r"\boxed{\frac{1}{2}}", r"\frac{1}{2}"),
])
def test_boxed_without_braces_reads_to_the_closing_dollar(text, expected):
    from rolegraph.answers import last_boxed

    assert last_boxed(text) == expected


@pytest.mark.parametrize(("text", "letter"), [
    ("B. London", "B"),
    ("(C) Paris\n\nParis is the capital of France.", "C"),
    ("Final answer: The capital is London (B)", "B"),
    ("**D.** none of these", "D"),
])
def test_mmlu_reads_a_leading_choice_line_and_a_parenthesised_letter(text, letter):
    assert extract_answer(text, "mmlu") == letter


def test_a_reply_listing_the_choices_names_none_of_them():
    assert extract_answer("A. Paris\nB. London\nC. Rome\nD. Oslo", "mmlu") is None
    assert extract_answer("Final answer: London (B) or maybe Paris (C)", "mmlu") is None


BODY = "    return [x for x in xs if x > 0]\n"


@pytest.mark.parametrize(("text", "expected"), [
    (SOLUTION, SOLUTION),
    ("Sure! " + SOLUTION, SOLUTION),
    ("Here is the function:\n\n" + SOLUTION + "\nIt adds the two numbers.", SOLUTION),
    ("from typing import List\n\n" + SOLUTION, "from typing import List\n\n" + SOLUTION),
    (BODY, BODY),
])
def test_code_without_a_fence_is_still_the_answer(text, expected):
    assert extract_answer(text, "code") == expected


@pytest.mark.parametrize("text", [
    "The function adds the two numbers.",
    "London",
    "Note: see the explanation",
    "def add(a, b):\n    return a +\n",  # broken code is not trimmed into other code
    "```python\ndef add(a, b):\n    return a",  # a reply cut inside its fence
])
def test_prose_or_a_cut_fence_gives_no_code(text):
    assert extract_answer(text, "code") is None


@pytest.mark.parametrize(("text", "expected"), [
    ("Final answer: yes [2][3]", "yes"),
    ("Final answer: Paris [1, 2].", "Paris"),
    (r"Final answer: \boxed{\text{Chief of Protocol}}", "Chief of Protocol"),
    (r"Final answer: \text{Chief of Protocol}", "Chief of Protocol"),
    ("Final answer: Answer: Chief of Protocol", "Chief of Protocol"),
    (r"Final answer: \text{Jan} and \text{Feb}", r"\text{Jan} and \text{Feb}"),  # not one wrapper around it all
    ("Final answer: [1]", None),
])
def test_qa_answers_lose_citations_prefixes_and_text_wrappers(text, expected):
    assert extract_answer(text, "qa") == expected

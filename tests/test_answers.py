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

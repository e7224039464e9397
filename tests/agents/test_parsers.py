from rolegraph.agents.parsers import (MAX_HIT_CHARS, format_evidence, parse_answer, parse_evidence, parse_plan,
                                      parse_queries, parse_verdicts)
from rolegraph.transcript import EVIDENCE_HEAD


def test_plan_block_and_sub_questions():
    text = ("Some preamble.\nPlan:\n1. Find who discovered it.\n2. Find the year.\n"
            "Sub-questions:\n- Who discovered penicillin?\n- When was it discovered?\n\nNotes: be brief.")
    out = parse_plan(text)
    assert out.answer is None
    assert out.fields["plan"].startswith("1. Find who") and "Sub-questions" not in out.fields["plan"]
    assert out.fields["sub_questions"] == ["Who discovered penicillin?", "When was it discovered?"]


def test_plan_without_sub_questions_keeps_whole_text_as_plan():
    out = parse_plan("1. Add the numbers.\n2. Check.")
    assert out.fields == {"plan": "1. Add the numbers.\n2. Check.", "sub_questions": []}


def test_queries_tolerate_numbering_and_case_and_dedupe():
    text = "Query: penicillin discovery\n2. query: Alexander Fleming\n- QUERY 3: penicillin discovery\nnoise"
    assert parse_queries(text) == ["penicillin discovery", "Alexander Fleming"]


def test_evidence_round_trip_keeps_titles_urls_and_parenthesised_titles():
    hits = [{"title": "Mercury (planet)", "url": "https://x.org/Mercury", "text": "The smallest planet."},
            {"title": "Fleming", "url": "", "text": "A physician."}]
    text = format_evidence(hits)
    assert text.startswith(EVIDENCE_HEAD)
    back = parse_evidence(text).fields["evidence"]
    assert [(h["title"], h["url"], h["text"]) for h in back] == [
        ("Mercury (planet)", "https://x.org/Mercury", "The smallest planet."), ("Fleming", "", "A physician.")]
    assert parse_evidence(text).answer is None


def test_evidence_truncates_long_hits_and_marks_empty_results():
    text = format_evidence([{"title": "Long", "url": "", "text": "word " * 1000}])
    assert len(text) < MAX_HIT_CHARS + 100 and text.rstrip().endswith("...")
    assert "(no results)" in format_evidence([])


def test_answer_kinds():
    assert parse_answer("Steps...\nFinal answer: 42", "math").answer == "42"
    assert parse_answer("so the total is 17 apples", "math").answer == "17"
    assert parse_answer("I think it is (C).\nFinal answer: C", "mmlu").answer == "C"
    assert parse_answer("```python\ndef f():\n    return 1\n```\nFinal answer: see the code above.",
                        "code").answer == "def f():\n    return 1\n"
    assert parse_answer("Final answer: Alexander Fleming", "qa").answer == "Alexander Fleming"


def test_qa_without_marker_falls_back_to_last_line_but_math_does_not():
    assert parse_answer("Let me think.\nIt was Alexander Fleming.\n", "qa").answer == "It was Alexander Fleming."
    assert parse_answer("no numbers here", "math").answer is None


def test_verdicts_per_candidate_and_corrected_answer():
    text = ("Verdict for a: correct\nVerdict for `b`: incorrect\nverdict for c: **wrong**\nFinal answer: 89")
    out = parse_verdicts(text, "math")
    assert out.fields["verdicts"] == {"a": "correct", "b": "incorrect", "c": "incorrect"}
    assert out.answer == "89"


def test_an_mmlu_reply_naming_no_letter_leaves_its_choice_text_for_the_task():
    """The parser has no choices; the task's score reads 'London' against them (tests/tasks/test_mmlu.py)."""
    assert parse_answer("London", "mmlu").answer == "London"
    assert parse_answer("Let me think.\nFinal answer: London", "mmlu").answer == "London"
    assert parse_answer("B. London", "mmlu").answer == "B"


def test_an_mmlu_reply_cut_in_its_reasoning_still_has_no_answer():
    assert parse_answer("First: Restate what is given.\nNext: Identify the quan", "mmlu").answer is None
    assert parse_answer("x" * 300, "mmlu").answer is None  # one long line is not a choice's text


def test_a_qa_fallback_line_loses_an_answer_prefix_and_citations():
    assert parse_answer("Answer: Chief of Protocol", "qa").answer == "Chief of Protocol"
    assert parse_answer("Let me check the sources.\nyes [2][3]", "qa").answer == "yes"
    assert parse_answer("Final answer: [1]", "qa").answer is None  # a marker with nothing after it

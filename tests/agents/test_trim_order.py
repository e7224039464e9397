"""`fit_evidence` at its edges, each expectation counted by hand from the rule `agents.trim` states: a prompt is
its two messages' shape estimate (`models.tokens`) plus 16 tokens of chat template, and it fits when that and the
reply's `max_tokens` are at most the window; the lowest-ranked hits go first, the longest first among hits of one
rank; of the last hit dropped as much goes back, cut at a word and marked " ...", as still fits (at least 200
characters of it, else none); a searcher left with no hit says so, never "(no results)"; nothing else is cut."""

from __future__ import annotations

from rolegraph.agents.parsers import format_evidence
from rolegraph.agents.trim import cut_by_window, fit_evidence, may_overflow
from rolegraph.models.tokens import text_tokens
from rolegraph.transcript import Section, render_input

SYSTEM = "You are a solver. Answer the question from the evidence."
QUESTION = "Who discovered penicillin?"
PLAN = "Plan: find the discoverer.\n- Who discovered penicillin?"
REPLY = 64
TEMPLATE = 16  # the chat template's tokens around the two messages, as the module states
WORDS = "mould culture staphylococcus laboratory london scotland physician bacteria experiment hospital".split()


def _text(words: int, start: int = 0) -> str:
    return " ".join(WORDS[(start + i) % len(WORDS)] for i in range(words))


def _hit(title: str, words: int, start: int = 0) -> dict:
    return {"title": title, "url": "", "text": _text(words, start)}


def _need(sections: list[Section]) -> int:
    """The prompt and reply tokens of `sections`, counted as the module's docstring says."""
    return text_tokens(SYSTEM) + text_tokens(render_input(QUESTION, sections)) + TEMPLATE + REPLY


def _sections(a: list[dict], b: list[dict]) -> list[Section]:
    return [
        Section(1, "plan", "planner", PLAN),
        Section(2, "s1", "searcher", format_evidence(a)),
        Section(3, "s2", "searcher", format_evidence(b)),
    ]


# Short hits (under 200 characters: a hit dropped is never given back cut), ranked 1..3 per searcher; s1's
# third hit is the longest of the lowest rank, s2's the shortest.
A = [_hit("A1", 6), _hit("A2", 8, 1), _hit("A3", 20, 2)]
B = [_hit("B1", 6, 3), _hit("B2", 8, 4), _hit("B3", 5, 5)]


def _fit(sections: list[Section], window: int):
    return fit_evidence(SYSTEM, QUESTION, sections, window=window, max_tokens=REPLY)


def test_a_prompt_that_fits_to_the_last_token_is_sent_unchanged_and_one_token_less_is_cut():
    sections = _sections(A, B)
    whole = _need(sections)
    assert all(len(h["text"]) < 200 for h in A + B)
    same, trim = _fit(sections, whole)
    assert same is sections and trim is None
    cut, trim = _fit(sections, whole - 1)
    assert trim is not None and trim.window == whole - 1 and cut != sections


def test_the_lowest_rank_goes_first_and_of_one_rank_the_longest():
    sections = _sections(A, B)
    without_a3 = _sections(A[:2], B)
    without_b3 = _sections(A, B[:2])
    assert _need(without_b3) > _need(without_a3)  # dropping s2's shorter third hit alone would not be enough
    window = _need(without_a3)  # dropping s1's longer third hit is, to the last token
    sent, trim = _fit(sections, window)
    assert [s.text for s in sent] == [s.text for s in without_a3]  # the plan and s2 untouched, s1 less its third
    assert trim is not None
    assert (trim.hits_dropped, trim.hits_cut, trim.window) == (1, 0, window)
    assert trim.tokens == _need(sections) - _need(without_a3)


def test_of_the_last_hit_dropped_the_longest_word_prefix_that_fits_goes_back_in_its_place():
    long = _hit("A2", 120, 1)  # ~1,000 characters
    a = [_hit("A1", 6), long]
    sections = _sections(a, [])
    text = long["text"]
    # the window: room for about half of the long hit
    half = text[: len(text) // 2].rsplit(" ", 1)[0]
    window = _need(_sections([a[0], {**long, "text": half + " ..."}], []))
    sent, trim = _fit(sections, window)
    # by hand: every cut at a space, longest first; the first whose prompt fits is the one expected
    spaces = [j for j, ch in enumerate(text) if ch == " "]
    expected = next(
        text[:j] + " ..."
        for j in reversed(spaces)
        if _need(_sections([a[0], {**long, "text": text[:j] + " ..."}], [])) <= window
    )
    assert len(expected) >= 200
    assert sent[1].text == format_evidence([a[0], {**long, "text": expected}])  # in its rank's place, after A1
    assert sent[0].text == PLAN and sent[2].text == sections[2].text
    assert trim is not None and (trim.hits_dropped, trim.hits_cut) == (0, 1)
    assert trim.tokens == _need(sections) - _need(sent)


def test_room_for_less_than_200_characters_of_the_last_hit_gives_none_back():
    long = _hit("A2", 120, 1)
    a = [_hit("A1", 6), long]
    sections = _sections(a, [])
    window = _need(_sections(a[:1], [])) + 10  # ten tokens spare: a few dozen characters, short of 200
    sent, trim = _fit(sections, window)
    assert sent[1].text == format_evidence(a[:1])
    assert trim is not None and (trim.hits_dropped, trim.hits_cut) == (1, 0)


def test_a_searcher_left_with_no_hit_says_they_were_left_out_not_that_none_were_found():
    sections = _sections([_hit("A1", 20)], [_hit("B1", 6, 3)])
    window = _need(sections) - 1  # dropping s1's one hit (the longest of rank 1) fits
    sent, trim = _fit(sections, window)
    assert "A1" not in sent[1].text and "(no results)" not in sent[1].text
    assert "left out" in sent[1].text and "context window" in sent[1].text
    assert sent[2].text == sections[2].text and sent[0].text == PLAN
    assert trim is not None and trim.hits_dropped == 1


def test_without_max_tokens_only_the_prompt_is_fitted():
    sections = _sections(A, B)
    prompt_only = _need(sections) - REPLY
    same, trim = fit_evidence(SYSTEM, QUESTION, sections, window=prompt_only, max_tokens=None)
    assert same is sections and trim is None


def test_a_prompt_and_max_tokens_that_fill_the_window_exactly_do_not_overflow_it():
    sections = _sections(A, B)
    whole = _need(sections)
    assert not may_overflow(SYSTEM, QUESTION, sections, whole, REPLY, None)
    assert may_overflow(SYSTEM, QUESTION, sections, whole - 1, REPLY, None)


def test_a_reply_is_cut_by_the_window_when_prompt_and_reply_reach_it_each_call():
    assert cut_by_window(2000, 48, 2048)  # exactly full
    assert not cut_by_window(2000, 47, 2048)
    assert cut_by_window(4000, 96, 2048, calls=2) and not cut_by_window(4000, 95, 2048, calls=2)
    assert not cut_by_window(0, 0, 2048, calls=0)  # no call: nothing was cut by anything
    assert not cut_by_window(5000, 5000, None)

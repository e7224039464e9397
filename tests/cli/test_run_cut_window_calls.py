"""The `[cut]` window line needs each of a node's cut calls to have filled the window: a node of two calls, both
cut, whose tokens fill the window once but not twice was cut at max_tokens at least once, and keeps that line;
counted by hand from `agents.trim.cut_by_window`'s rule (prompt and reply tokens reach `calls` x window)."""

from __future__ import annotations

from types import SimpleNamespace

from rolegraph.cli.run_output import cut_lines

WINDOW = 2048


class Pool:
    def get(self, model):
        return SimpleNamespace(context_window=WINDOW)


def _node(node: str, tokens_in: int, tokens_out: int, calls: int, cut: int):
    return SimpleNamespace(
        id=node, model="m/small", tokens_in=tokens_in, tokens_out=tokens_out, calls=calls, truncated_calls=cut
    )


def test_two_cut_calls_that_filled_the_window_once_between_them_are_a_max_tokens_cut():
    once = _node("twice", 1842 + 100, 206 + 400, calls=2, cut=2)  # 2,548 tokens: one window, not two
    lines = cut_lines([once], Pool())
    assert lines == [
        "[cut] replies cut at max_tokens: twice (2 of 2); raise the node's max_tokens param if it needs the room"
    ]


def test_two_cut_calls_that_each_filled_the_window_are_a_window_cut():
    both = _node("twice", 2 * 1842, 2 * 206, calls=2, cut=2)  # 4,096 tokens: two windows
    lines = cut_lines([both], Pool())
    assert len(lines) == 1 and lines[0].startswith("[cut] replies cut by the model's context window")
    assert "twice (2 of 2)" in lines[0]


def test_a_node_with_no_cut_call_has_no_line():
    assert cut_lines([_node("fine", 1842, 206, calls=1, cut=0)], Pool()) == []


def test_a_node_with_some_calls_not_cut_keeps_the_max_tokens_line_whatever_its_tokens():
    # one of two calls cut; their tokens reach two windows, but the uncut call says nothing of the cut one
    mixed = _node("mixed", 2 * 1842, 2 * 206, calls=2, cut=1)
    assert cut_lines([mixed], Pool()) == [
        "[cut] replies cut at max_tokens: mixed (1 of 2); raise the node's max_tokens param if it needs the room"
    ]

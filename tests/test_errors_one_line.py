"""`one_line` (rolegraph.errors): one helper for every reason, cell and summary printed on one line; each place
that shortened text by hand before keeps its own cap and cut mark."""
from __future__ import annotations

from types import SimpleNamespace

from rolegraph.cli.run_output import _short
from rolegraph.errors import one_line
from rolegraph.graphs.result import failed_tool_reason as _reason
from rolegraph.tools.base import one_line as tools_one_line


def test_whitespace_runs_and_line_breaks_become_single_spaces():
    assert one_line("a\n\tb   c\r\n") == "a b c"
    assert one_line(ValueError("bad\nvalue")) == "bad value"


def test_the_default_cap_is_300_characters_ending_in_three_dots():
    assert one_line("x" * 300) == "x" * 300
    assert one_line("x" * 301) == "x" * 297 + "..."


def test_a_cap_and_cut_mark_of_the_callers_choice():
    assert one_line("abcdefgh", 5, ellipsis="…") == "abcd…"
    assert one_line("abcdefgh", 5, ellipsis="") == "abcde"
    assert one_line("a  " * 500, limit=None) == " ".join(["a"] * 500)


def test_the_tools_still_import_it_from_their_base_module():
    assert tools_one_line is one_line


def test_a_run_table_cell_is_48_characters_with_one_mark_and_a_dash_when_empty():
    assert _short(None) == "-"
    assert _short("y" * 60) == "y" * 47 + "…"


def test_a_failed_calls_reason_is_flat_uncapped_and_without_the_tools_name():
    event = SimpleNamespace(tool="search", summary="search: no\nresults " + "z" * 400)
    assert _reason(event) == "no results " + "z" * 400
    assert _reason(SimpleNamespace(tool="search", summary=None)) == "no reason given"

"""The second part of the docs snippets (`test_snippets.PART2_PAGES`), run as `test_snippets` runs the first: a
file of its own so `--dist loadfile` can put the two halves of ~5 minutes on different workers."""

from __future__ import annotations

import pytest

from .test_snippets import PART2, Snippet, run_snippet


@pytest.mark.parametrize("snippet", PART2, ids=[s.name for s in PART2])
def test_snippet_runs(snippet: Snippet, tmp_path):
    run_snippet(snippet, tmp_path)

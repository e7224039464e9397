"""Command help reads as paragraphs on an 80-column terminal, not as source lines wrapped twice."""
from __future__ import annotations

import pytest

from rolegraph.cli import main
from rolegraph.cli.help_text import unwrap_paragraphs
from tests.cli.test_help_width import TERMINAL_COLUMNS, _command_paths

PANEL_TOP = "╭"
SIDE_PADDING = 4  # rich's one-column margin on each side, and room for a wrapped line's trailing space


def test_a_paragraph_is_joined_and_paragraphs_stay_apart():
    assert unwrap_paragraphs("First line.\n\nsamples graphs and updates\nthe probabilities.\n\nLast\none.") == (
        "First line.\n\nsamples graphs and updates the probabilities.\n\nLast one."
    )


def test_a_list_and_a_verbatim_paragraph_keep_their_lines():
    text = "Intro.\n\n- one\n- two\n\n\bkeep\nthese lines"
    assert unwrap_paragraphs(text) == text


def _description(out: str) -> list[list[str]]:
    """The help's prose between the usage line and the first options panel, as paragraphs of lines."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if "Usage:" in line) + 1
    end = next((i for i, line in enumerate(lines) if line.lstrip().startswith(PANEL_TOP)), len(lines))
    paragraphs: list[list[str]] = [[]]
    for line in lines[start:end]:
        if line.strip():
            paragraphs[-1].append(line.strip())
        elif paragraphs[-1]:
            paragraphs.append([])
    return [p for p in paragraphs if p]


@pytest.mark.parametrize("path", _command_paths(), ids=" ".join)
def test_no_line_of_a_paragraph_breaks_early(path, monkeypatch, capsys):
    """Within a paragraph a line ends only where the next word would not fit in 80 columns."""
    monkeypatch.setenv("COLUMNS", TERMINAL_COLUMNS)
    try:
        main([*path, "--help"])
    except SystemExit as exc:
        assert exc.code in (0, None)
    width = int(TERMINAL_COLUMNS) - SIDE_PADDING
    early = [
        f"{line!r} then {following.split()[0]!r}"
        for paragraph in _description(capsys.readouterr().out)
        if not paragraph[0].startswith("- ")
        for line, following in zip(paragraph, paragraph[1:])
        if len(line) + 1 + len(following.split()[0]) <= width
    ]
    assert not early, "\n".join(early)

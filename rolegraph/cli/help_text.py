"""Command help as paragraphs: the docstrings are wrapped for the source, not for the terminal.

typer's rich help keeps a paragraph's single line breaks (only the first paragraph is joined), so a
docstring wrapped at 100-110 columns came out ragged on an 80-column terminal: rich wrapped each source line
again, leaving "... scores them and updates" / "the probabilities ..." as a short line and a long one. Each
paragraph is joined into one line here and the terminal wraps it; a paragraph that is a list (lines starting
with "- ") or marked verbatim with click's "\\b" keeps its lines.
"""

from __future__ import annotations

import inspect

import typer

PARAGRAPH = "\n\n"
VERBATIM = "\b"  # click's marker for a paragraph whose line breaks stand
LIST_ITEM = "- "


def unwrap_paragraphs(text: str) -> str:
    """`text` with each ordinary paragraph's line breaks replaced by spaces."""
    paragraphs = inspect.cleandoc(text).split(PARAGRAPH)
    return PARAGRAPH.join(p if _keeps_lines(p) else " ".join(map(str.strip, p.splitlines())) for p in paragraphs)


def _keeps_lines(paragraph: str) -> bool:
    lines = paragraph.splitlines()
    return paragraph.startswith(VERBATIM) or any(line.lstrip().startswith(LIST_ITEM) for line in lines)


def unwrap_app_help(app: typer.Typer) -> None:
    """Every command's and group's help in `app` (and its sub-apps) as paragraphs (`unwrap_paragraphs`)."""
    for command in app.registered_commands:
        text = command.help if isinstance(command.help, str) else inspect.getdoc(command.callback)
        if text:
            command.help = unwrap_paragraphs(text)
    for group in app.registered_groups:
        if isinstance(group.help, str):
            group.help = unwrap_paragraphs(group.help)
        if group.typer_instance is not None:
            unwrap_app_help(group.typer_instance)

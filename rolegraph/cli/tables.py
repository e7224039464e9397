"""Rich tables on stdout: fitted to a terminal, printed whole into a pipe or a file.

When stdout is not a terminal, rich lays a table out for 80 columns and cuts cells with an ellipsis to fit:
a model id cut to `openai/gp…` can be neither grepped nor pasted into a pool file. With no screen to fit,
`stdout_console` makes the console as wide as the widest table it will print, so every cell is whole.

On a terminal narrower than a table, rich would shrink every column alike and crop what no longer fits,
even a `no_wrap` column (`local/smollm2-135`, `10.0` for `10.00`, `+23…`): a cut id or figure reads as a
valid one. So `stdout_console` lays such a table out itself: a `no_wrap` column (an id) keeps its longest
line, and any other column wraps only between words (a figure is one word, so it is never split). A column
declared `overflow="fold"` (long free text: a note) is given no less than FOLD_MIN_WIDTH, so it stays
readable, and no less than its longest word either: folding would split a graph's name, a model id, a
`temperature=0.7` or a URL that happens to sit in such a column (`vote3-llama-` / `3.2-1b`), which can then
be neither read nor pasted. When even that does not fit, the table is printed wider than the terminal
rather than cut.

User text (a graph's name, a --label, a model id, a path, an answer) reaches rich as `Text`, never as a string:
rich reads `[/]` or `[bold]` in a string as a tag, crashes on an unmatched one, or swallows it. The tables'
builders wrap it; a line printed on its own goes through `plain_console`, which reads no markup (nothing this
CLI prints means markup).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType
from rich.table import Column, Table

UNBOUNDED_WIDTH = 10_000  # columns: wider than any table this CLI prints, so measuring never cuts a cell
FOLD_MIN_WIDTH = 12  # columns: the narrowest a folding text column is laid out (or its longest word, if wider)


def plain_console(**kwargs: Any) -> Console:
    """A `Console(**kwargs)` that prints strings as they are: a `[` in a graph's name is text, not a tag."""
    return Console(markup=False, **kwargs)


def stdout_console(*renderables: RenderableType) -> Console:
    """A console for printing `renderables` to stdout: the terminal's width, else wide enough for them.

    The tables among `renderables` are laid out for that width here (their column widths are set), so
    print them on the console returned."""
    console = Console()
    if not renderables:
        return console
    for table in renderables:
        if isinstance(table, Table):
            _hold_annotations(
                table, console, console.width if console.is_terminal else UNBOUNDED_WIDTH, whole=not console.is_terminal
            )
    if console.is_terminal:
        needed = [fit_table(r, console, console.width) for r in renderables if isinstance(r, Table)]
        if needed and max(needed) > console.width:
            console.width = max(needed)  # wider than the screen (it wraps the lines) rather than cut
        return console
    unbounded = console.options.update_width(UNBOUNDED_WIDTH)  # measured with room to spare, nothing is cut
    widest = max(console.measure(r, options=unbounded).maximum for r in renderables)
    return Console(width=max(console.width, widest))


def _hold_annotations(table: Table, console: Console, cap: int, *, whole: bool = False) -> None:
    """Make `table` at least as wide as the longest word of its title and caption (up to `cap` columns): rich
    wraps them to the table's width, and a graph file's path in a title would otherwise be split. `whole`
    (output into a pipe, where nothing is laid out for a screen): as wide as their longest line, so a title
    stays on one line however long the file's path is."""
    options = console.options.update_width(UNBOUNDED_WIDTH)
    sizes = [console.measure(a, options=options) for a in (table.title, table.caption) if a]
    words = [s.maximum if whole else s.minimum for s in sizes]
    if words:
        table.min_width = max(table.min_width or 0, min(max(words), cap))


def _column_range(column: Column, header: bool, console: Console, options: ConsoleOptions) -> tuple[int, int]:
    """The least width `column`'s content may get without cutting an id or a figure, and its natural width."""
    if column.width is not None:  # a width the table set itself (or an earlier fit)
        return column.width, column.width
    cells = [*column.cells, column.header] if header else list(column.cells)
    sizes = [console.measure(cell, options=options) for cell in cells]
    line = max((s.maximum for s in sizes), default=0)
    if column.max_width is not None:  # the table caps this column (a long answer): its cap is its natural width
        line = min(line, column.max_width)
    word = min(line, max((s.minimum for s in sizes), default=0))
    if column.no_wrap:
        return line, line
    if column.overflow == "fold":
        return max(word, min(line, FOLD_MIN_WIDTH)), line
    return word, line


def fit_table(table: Table, console: Console, width: int) -> int:
    """Set `table`'s column widths so that it fits `width` columns without cutting an id or a figure, when
    it can; return the width it takes (more than `width` when even its least layout is wider).

    A table that fits as it is is left alone. Otherwise each column gets its least width and the room left
    is shared in proportion to what each still lacks of its natural width."""
    options = console.options.update_width(UNBOUNDED_WIDTH)
    natural = console.measure(table, options=options).maximum
    if natural <= width:
        return natural
    ranges = [_column_range(c, table.show_header, console, options) for c in table.columns]
    overhead = natural - sum(line for _, line in ranges)  # borders and padding
    least = sum(low for low, _ in ranges) + overhead
    spare = max(0, width - least)
    lacks = [line - low for low, line in ranges]
    total = sum(lacks) or 1
    shares = [spare * lack // total for lack in lacks]
    left = spare - sum(shares)
    for i in sorted(range(len(lacks)), key=lambda i: lacks[i] - shares[i], reverse=True):
        if left <= 0:
            break
        if shares[i] < lacks[i]:
            shares[i] += 1
            left -= 1
    for column, (low, _), share in zip(table.columns, ranges, shares):
        column.width = max(low + share, 1)
    return max(least, min(width, natural))

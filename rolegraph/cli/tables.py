"""Rich tables on stdout: fitted to a terminal, printed whole into a pipe or a file.

When stdout is not a terminal, rich lays a table out for 80 columns and cuts cells with an ellipsis to fit:
a model id cut to `openai/gp…` can be neither grepped nor pasted into a pool file. With no screen to fit,
`stdout_console` makes the console as wide as the widest table it will print, so every cell is whole.
"""

from __future__ import annotations

from rich.console import Console, RenderableType

UNBOUNDED_WIDTH = 10_000  # columns: wider than any table this CLI prints, so measuring never cuts a cell


def stdout_console(*renderables: RenderableType) -> Console:
    """A console for printing `renderables` to stdout: the terminal's width, else wide enough for them."""
    console = Console()
    if console.is_terminal or not renderables:
        return console
    unbounded = console.options.update_width(UNBOUNDED_WIDTH)  # measured with room to spare, nothing is cut
    widest = max(console.measure(r, options=unbounded).maximum for r in renderables)
    return Console(width=max(console.width, widest))

"""The progress bar's label (a graph's name or a --label) is text: `[/]` in it used to crash the bar (markup)."""
from __future__ import annotations

import io

from rich.console import Console

from rolegraph.evaluate.progress import ItemProgress


def test_a_bracketed_label_is_drawn_as_it_is():
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, force_interactive=True, width=100, color_system=None)
    with ItemProgress(2, "x[/]y on gsm", show=True, console=console) as bar:
        bar.advance(1)
        console.print(bar._bar)  # the bar as it stands, the label included (the live bar is transient)
    assert "x[/]y on gsm" in buf.getvalue()

"""The building blocks of the HTML report: escaped text, numbers, tables, inlined figures, sections and
summary cards (`reports/html.py` composes the page from them)."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence, Set
from pathlib import Path
from typing import Any

FIGURES = {"curve": "curve.png", "pareto": "pareto.png", "graph": "graph.png"}


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def fmt_num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def ci_text(ci: Any) -> str:
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def html_table(
    head: list[str], rows: list[list[Any]], *, numeric: Set[int] = frozenset(), classes: Sequence[str] = ()
) -> str:
    th = "".join(f'<th class="num">{esc(h)}</th>' if i in numeric else f"<th>{esc(h)}</th>" for i, h in enumerate(head))
    body = []
    for k, row in enumerate(rows):
        cls = f' class="{classes[k]}"' if k < len(classes) and classes[k] else ""
        tds = "".join(
            f'<td class="num">{esc(v)}</td>' if i in numeric else f"<td>{esc(v)}</td>" for i, v in enumerate(row)
        )
        body.append(f"<tr{cls}>{tds}</tr>")
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def html_figure(run_dir: Path, key: str, alt: str, caption: str) -> str:
    path = run_dir / FIGURES[key]
    if not path.is_file():
        return f'<p class="muted">({esc(FIGURES[key])} was not rendered)</p>'
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (
        f'<figure id="fig-{key}"><img src="data:image/png;base64,{data}" alt="{esc(alt)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def html_section(key: str, title: str, body: str) -> str:
    return f'<section id="{key}">\n<h2>{esc(title)}</h2>\n{body}\n</section>'


def html_card(label: str, value: str, note: str = "") -> str:
    note_html = f'<div class="note">{esc(note)}</div>' if note else ""
    return (
        f'<div class="card"><div class="label">{esc(label)}</div><div class="value">{esc(value)}</div>{note_html}</div>'
    )

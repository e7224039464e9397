"""`rolegraph models`: the pool, and which models have what a call needs (key set, engine installed).

Nothing is contacted: an entry whose key is set may still point at a dead port; `rolegraph run` with one
question is the test of that. So the table says "key set", not "usable", and shows where each endpoint is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from rolegraph.chat.spec import ModelSpec
from rolegraph.models.pool import ModelPool

SIMULATED_NOTE = "simulated"
NO_KEY_NEEDED = "-"
TABLE_CAPTION = "key set: its api_key_env variable is set; no endpoint is contacted (try one with rolegraph run)"


def _usable(pool: ModelPool, spec: ModelSpec) -> tuple[bool, str]:
    """ModelPool.usable, with a clear answer when the local backend's module cannot even be imported."""
    try:
        return pool.usable(spec.id)
    except ImportError as exc:
        return False, f"local backend unavailable ({exc.name or exc})"


def model_rows(pool: ModelPool) -> list[dict]:
    """One plain dict per model: what `--json` prints and the table shows."""
    rows = []
    for spec in pool:
        ok, why = _usable(pool, spec)
        rows.append(
            {
                "id": spec.id,
                "backend": spec.backend,
                "params_b": spec.params_b,
                "layers": spec.layers,
                "hidden": spec.hidden,
                "price_in": spec.price_in,
                "price_out": spec.price_out,
                "context_window": spec.context_window,
                "max_concurrency": spec.max_concurrency,
                "simulated": spec.simulated or spec.answer_key,
                "endpoint": spec.public_endpoint,  # never the base_url's credentials or query (a key may sit there)
                "api_key_env": spec.api_key_env,  # the variable's name (the key itself is never read out)
                "key_set": spec.key_present() if spec.api_key_env is not None else None,
                "usable": ok,  # key set and (local models) engine installed; the endpoint is not probed
                "reason": why,
            }
        )
    return rows


STACKED_HEAD = "backend / size (B) / $/1M in/out"
NARROW_HEAD = "id / note"
LAYOUTS = ("wide", "stacked", "narrow")  # widest first: a terminal gets the first one that fits it


def _table(rows: list[dict], layout: str = "wide"):
    """The pool as a table in one of LAYOUTS: "wide" has six columns; for a terminal too narrow for them with
    every id, figure and URL whole, "stacked" puts backend, size and prices one under the other in one column,
    and "narrow" also puts the note under the id. No cell is cut or split inside a word, as
    `rolegraph.evaluate.report.runs_table` promises for its table: an id is what you type, and a URL split over
    two lines (`https://api.op` / `enai.com/v1`) can be neither copied nor read; so no column folds
    (`stdout_console` wraps cells only between words, and prints the table wider than the screen sooner)."""
    from rich.console import JustifyMethod
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Model pool (sim/* models are simulated stand-ins, not real models)", caption=TABLE_CAPTION)
    stacked, narrow = layout != "wide", layout == "narrow"
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        (NARROW_HEAD if narrow else "id", "left"),
        *(
            ((STACKED_HEAD, "right"),)
            if stacked
            else (("backend", "left"), ("size (B)", "right"), ("$/1M in/out", "right"))
        ),
        ("key set", "left"),
        *((("note", "left"),) if not narrow else ()),
    )
    for name, justify in columns:  # the id column never wraps, unless the note shares it (an id has no space)
        table.add_column(name, justify=justify, no_wrap=name == "id")
    for r in rows:
        size = f"{r['params_b']:g}" if r["params_b"] is not None else "-"
        where = r["endpoint"] if r["backend"] == "openai" else ""
        note = "; ".join(n for n in (SIMULATED_NOTE if r["simulated"] else "", where, r["reason"]) if n)
        key = NO_KEY_NEEDED if r["key_set"] is None else ("yes" if r["key_set"] else "no")
        figures = (r["backend"], size, f"{r['price_in']:.2f}/{r['price_out']:.2f}")
        # ids, endpoints and reasons as Text: a pool's `my/[x]` is an id, not markup
        first = Text.assemble(r["id"], *(("\n", (note, "dim")) if note else ())) if narrow else Text(r["id"])
        figures_cells = (Text("\n".join(figures)),) if stacked else tuple(map(Text, figures))
        table.add_row(first, *figures_cells, key, *(() if narrow else (Text(note),)))
    return table


def register(app: typer.Typer) -> None:
    """Add `models` to the app."""

    @app.command("models")
    def models(
        pool: Annotated[
            Path | None,
            typer.Option("--pool", help="YAML pool file merged over the built-ins (default: $ROLEGRAPH_POOL)"),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print a JSON list instead of a table")] = False,
    ) -> None:
        """List the model pool: id, backend, size, prices, endpoint, and whether its key is set (nothing contacted)."""
        rows = model_rows(ModelPool.load(pool))
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        from rolegraph.cli.tables import fit_table, stdout_console

        terminal = stdout_console()  # the terminal, if stdout is one: a pipe gets the wide table whole
        for layout in LAYOUTS:
            table = _table(rows, layout)  # none fits: the narrowest, printed wider than the screen rather than cut
            if not terminal.is_terminal or fit_table(table, terminal, terminal.width) <= terminal.width:
                break
        stdout_console(table).print(table)

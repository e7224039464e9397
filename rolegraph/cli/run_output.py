"""What `rolegraph run` prints: the per-node table (rich) with the answer and totals, or the documented
`run --json` object.

The table's notes say what a user would otherwise only find in `--json`: `RunResult.notes` (why a loop
stopped, what a fan-out spawned, each tool call that failed - a timeout, an exception, a sandbox error: the
run must not look clean when a tool did not work), each tool note (a search that fell back), and each node
whose searchers' evidence was trimmed to fit its model's context window (`agents.trim`)."""

from __future__ import annotations

from typing import Any

from rolegraph.errors import one_line
from rolegraph.money import money

MAX_CELL_CHARS = 48
"""Answers longer than this are shortened in the per-node table (the full answer is printed below)."""
CUT_MARK = "[cut] "
"""Prefixed to the answer cell of a node whose reply was cut short (at its max_tokens or by the context window)."""
MODELLED_SECONDS = "modelled seconds"
SOME_MODELLED_SECONDS = "seconds (modelled for sim/* nodes)"
MEASURED_SECONDS = "seconds"
NOTE_SEPARATOR = "\n"
"""A tool call's note may hold several notes, one per line (agents/agent.py); each is printed on its own."""


def latency_modelled(node: Any) -> bool | None:
    """Whether a node's seconds are modelled (an in-process sim model's calibrated latency) or measured
    (anything answered over HTTP or by the local engine); None for a node that made no call.

    The reply tells them apart: only an in-process sim reply is simulated without serve-sim's fingerprint.
    An HTTP twin of a sim model is simulated too, but its replies carry the fingerprint, and its latency is
    the measured HTTP call (the simulation label alone cannot say which)."""
    if node.simulated is None:
        return None
    return bool(node.simulated) and node.sim_fingerprint is None


def seconds_meaning(nodes: Any) -> str:
    """What the per-node table's `s` column holds: modelled seconds only when every node that called a model
    had its latency modelled; plain seconds when every one was measured; a mix says which were modelled."""
    kinds = {k for n in nodes if (k := latency_modelled(n)) is not None}
    if kinds == {True}:
        return MODELLED_SECONDS
    return SOME_MODELLED_SECONDS if True in kinds else MEASURED_SECONDS


def _short(text: str | None) -> str:
    return one_line(text or "-", MAX_CELL_CHARS, ellipsis="…")


def _tool_call(event: Any) -> dict[str, Any]:
    call = {"tool": event.tool, "arguments": event.arguments, "ok": event.ok, "result": event.summary}
    if event.note:
        call["note"] = event.note  # e.g. web search fell back to local search
    return call


def _node_json(n: Any) -> dict[str, Any]:
    out = {
        "id": n.id,
        "role": n.role,
        "model": n.model,
        "answer": n.answer,
        "tokens_in": n.tokens_in,
        "tokens_out": n.tokens_out,
        "latency_s": n.latency_s,
        "cost_usd": n.cost_usd,
        "cached_calls": n.cached_calls,
        "output": n.output,
        "tool_calls": [_tool_call(e) for e in n.tools],
        "inputs": n.inputs,
        "trimmed_evidence_tokens": trimmed_tokens(n),
        "trimmed_hits": getattr(n, "trimmed_hits", 0),
    }
    if n.instance_of is not None:
        out.update(instance_of=n.instance_of, copy=n.copy_index, round=n.round)
    if n.error:
        out["error"] = n.error
    return out


def answered(result: Any) -> bool:
    """Whether some node got a reply: the nodes `RunResult.served` is gathered from (`RunResult.served_by`), the
    rule `eval` labels an item by (`runner`: no reply, no label)."""
    return any(n.simulated is not None for n in result.nodes)


def shown_label(result: Any) -> str:
    """The simulation label `run` shows: the run's, or "no answers" when no node got a reply (`answered`), as
    `eval` labels a graph whose every item failed. `RunResult.simulation` keeps the label the pool configured
    (searches and traces read it), which here would call a run that nothing answered "real"."""
    from rolegraph.evaluate.report import NO_ANSWERS

    return result.simulation if answered(result) else NO_ANSWERS


def run_json(result: Any, provenance: Any = None, stats: Any = None) -> dict[str, Any]:
    """The documented `run --json` object: totals, notes, and per node its output text and tool calls
    (tool, arguments, ok, a result excerpt); a fan-out copy or loop round also says what it runs. A run that
    no reply answered is `"simulation": "no answers"`, `"simulated": false` (`shown_label`), in its provenance
    too: the provenance is built from the label the pool configured, and left so it said "real" under a top-level
    "no answers". `stats`, the run's hub's `CallStats`, adds its requests abandoned at a timeout (`timed_out_attempts`,
    `timed_out_usd`): a `RunResult` does not see them."""
    shown = shown_label(result)
    proven = provenance.model_dump() if provenance is not None else None
    if proven is not None:
        proven["simulation"] = shown
    return {
        "answer": result.answer,
        "latency_s": result.latency_s,
        "critical_path_s": result.critical_path_s,
        "cost_usd": result.cost_usd,
        "tokens": result.tokens,
        "flops_units": result.flops_units,
        "simulated": answered(result) and result.simulated,
        "simulation": shown,
        "world": result.world,
        "provenance": proven,
        "notes": result.notes,
        "error": result.error,
        "calls": sum(n.calls for n in result.nodes),
        "cached_calls": sum(n.cached_calls for n in result.nodes),
        "nodes": [_node_json(n) for n in result.nodes],
        **(
            {"timed_out_attempts": stats.timed_out_attempts, "timed_out_usd": stats.timed_out_usd}
            if stats is not None
            else {}
        ),
    }


RUN_LAYOUTS = ("wide", "stacked")
"""The per-node table's layouts, widest first: a terminal gets the first that fits it with every id whole."""
STACKED_NODE_HEAD = "node\nrole\nmodel"
STACKED_FIGURES_HEAD = "in\nout\ns\n$"
"""The stacked layout's headers, a line each for the lines of the cells under them."""


def run_table(result: Any, title: Any, caption: str, layout: str = "wide") -> Any:
    """The per-node table in one of RUN_LAYOUTS: "wide" has a column each for node, role, model, answer, tokens
    in and out, seconds and dollars; "stacked", for a terminal too narrow for them, puts node, role and model
    one under the other in one column, and the four figures likewise in another.

    No id, model name or figure is split: `sim/llama-3.` over `1-8b` can be neither read nor pasted into a pool
    file (`stdout_console` prints a table wider than the screen rather than split one). Only the answer wraps,
    between its words; it is cut to MAX_CELL_CHARS with "…" (the graph's whole answer is printed under the
    table, and every node's in `run --json`)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, caption=caption)
    stacked = layout == "stacked"
    if stacked:
        table.add_column(STACKED_NODE_HEAD, no_wrap=True)
    else:
        for column in ("node", "role", "model"):
            table.add_column(column, no_wrap=True)
    table.add_column("answer", max_width=MAX_CELL_CHARS)
    for column in (STACKED_FIGURES_HEAD,) if stacked else ("in", "out", "s", "$"):
        table.add_column(column, justify="right", no_wrap=True)
    for n in result.nodes:
        cell = _short(n.error or n.answer)
        answer = Text(CUT_MARK + cell if n.truncated_calls else cell)
        figures = (str(n.tokens_in), str(n.tokens_out), f"{n.latency_s:.2f}", money(n.cost_usd, ""))
        if stacked:
            units = ("in", "out", "s", "$")
            table.add_row(
                Text("\n".join((n.id, n.role, n.model))),
                answer,
                "\n".join(f"{figure} {unit}" for figure, unit in zip(figures, units)),
            )
        else:
            table.add_row(Text(n.id), Text(n.role), Text(n.model), answer, *figures)
    return table


def print_run(result: Any, spec: Any, label: str, gold_line: str | None, stats: Any = None, pool: Any = None) -> None:
    """The per-node table and the lines under it. `stats`, the run's hub's `CallStats`, adds the requests abandoned
    at a timeout (`timed_out_note`), which the nodes' figures leave out and a `RunResult` does not see. `pool`, the
    run's `ModelPool`, gives the models' context windows, which tell a reply cut by the window from one cut at its
    max_tokens (`cut_lines`); without it every cut is taken for max_tokens'."""
    from rich.text import Text

    from rolegraph.cli.tables import fit_table, stdout_console
    from rolegraph.evaluate.report import FLOPS_NO_ANSWERS, cache_note, timed_out_note
    from rolegraph.graphs.analysis import flops_phrase
    from rolegraph.models.provenance import label_suffix

    if answered(result):
        sim = label_suffix(result.simulation)
        if result.world is not None and sim:
            sim += f" in world {result.world}"
        flops = flops_phrase(result.flops_units)
    else:  # nothing answered: neither simulated nor real, and no FLOPs figure for lack of model sizes
        sim = f" ({shown_label(result)})"
        flops = flops_phrase(result.flops_units) if result.flops_units else f"FLOPs units {FLOPS_NO_ANSWERS}"
    caption = f"in/out: tokens; s: {seconds_meaning(result.nodes)}; $: dollars"
    terminal = stdout_console()  # the terminal, if stdout is one: a pipe gets the wide table whole
    for layout in RUN_LAYOUTS:  # none fits: the narrowest, printed wider than the screen rather than split
        table = run_table(result, Text(f"{spec.name} on {label}{sim}"), caption, layout)
        if not terminal.is_terminal or fit_table(table, terminal, terminal.width) <= terminal.width:
            break
    console = stdout_console(table)
    console.print(table)
    console.print(Text(f"answer{sim}: {result.answer}"))
    if gold_line:
        console.print(Text(gold_line))
    console.print(
        Text(
            f"latency {result.latency_s:.2f} s (critical path {result.critical_path_s:.2f} s), "
            f"{result.tokens:,} tokens, {money(result.cost_usd)}, " + flops + sim
        )
    )
    note = cache_note(sum(n.cached_calls for n in result.nodes), sum(n.calls for n in result.nodes))
    if note:
        console.print(Text(note))
    for line in cut_lines(result.nodes, pool):  # cut at max_tokens, or by the context window: not the same advice
        console.print(Text(line))
    for line in run_notes(result.notes):  # why loops stopped, what fan-outs spawned, each failed tool call
        console.print(Text(line))
    for line in tool_notes(result.nodes):  # a tool that fell back (web search -> the offline index) says so here
        console.print(Text(line))
    for line in trim_notes(result.nodes):  # a reader sent fewer hits than its searchers found must say so
        console.print(Text(line))
    if stats is not None and (abandoned := timed_out_note(stats.timed_out_attempts, stats.timed_out_usd)):
        console.print(Text(f"note: {abandoned}"))
    if result.error:
        console.print(Text(f"error: {result.error}"))


def _window(pool: Any, model: str) -> int | None:
    """`model`'s context window in `pool` (None: no pool, a model it lacks, or no window declared or learnt)."""
    if pool is None:
        return None
    try:
        window = pool.get(model).context_window
    except Exception:  # noqa: BLE001 - a trace's model the pool cannot name has no known window: a max_tokens cut
        return None
    return window if isinstance(window, int) else None


def cut_lines(nodes: Any, pool: Any = None) -> list[str]:
    """The `[cut]` lines under the table: the nodes whose replies were cut at their max_tokens (raising it helps),
    and apart from them those whose every cut reply filled its model's context window with its prompt
    (`agents.trim.cut_by_window`, from the node's totals: each of its calls cut and each at the window), for which
    max_tokens is no help. A node with some calls cut and some not cannot be told apart and keeps the first line."""
    from rolegraph.agents.trim import WINDOW_ADVICE, cut_by_window

    at_max: list[str] = []
    by_window: list[str] = []
    for n in nodes:
        if not n.truncated_calls:
            continue
        window = _window(pool, n.model)
        full = n.truncated_calls == n.calls and cut_by_window(n.tokens_in, n.tokens_out, window, n.calls)
        (by_window if full else at_max).append(f"{n.id} ({n.truncated_calls} of {n.calls})")
    mark = CUT_MARK.strip()
    lines = []
    if at_max:
        lines.append(
            f"{mark} replies cut at max_tokens: {', '.join(at_max)}; "
            "raise the node's max_tokens param if it needs the room"
        )
    if by_window:
        lines.append(
            f"{mark} replies cut by the model's context window (the prompt and the reply filled it, short of "
            f"max_tokens): {', '.join(by_window)}; {WINDOW_ADVICE}"
        )
    return lines


def run_notes(notes: Any) -> list[str]:
    """One line per run note (a loop's rounds and why it stopped, a fan-out's copies), as the run made them."""
    return [f"note: {' '.join(str(note).split())}" for note in notes or ()]


def tool_notes(nodes: Any) -> list[str]:
    """One line per node and distinct tool note (a fallback, for one), in node order."""
    lines: list[str] = []
    for n in nodes:
        notes = (part for e in n.tools if e.note for part in e.note.split(NOTE_SEPARATOR))
        for note in dict.fromkeys(part.strip() for part in notes if part.strip()):
            lines.append(f"note: node {n.id}: {note}")
    return lines


def trimmed_tokens(node: Any) -> int:
    """The tokens of searchers' evidence a node's prompt lost to its model's context window (`agents.trim`); 0 for a
    trace that does not record it."""
    return int(getattr(node, "trimmed_evidence_tokens", 0) or 0)


def trim_notes(nodes: Any) -> list[str]:
    """One line per node whose searchers' evidence was cut to fit its model's context window: the answer was
    written from fewer hits than were found, which the table would not show."""
    return [
        f"note: node {n.id}: evidence trimmed to fit {n.model}'s context window: {getattr(n, 'trimmed_hits', 0)} "
        f"search hit(s) left out or cut short, ~{trimmed_tokens(n):,} tokens"
        for n in nodes
        if trimmed_tokens(n)
    ]

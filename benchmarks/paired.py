"""Paired comparison of two search methods, search by search: the instrument that sees small differences.

The generalization benchmark's headline divides the agent's median by the best baseline's per setting, over
4 seeds: a coarse and noisy figure (each baseline against the best of the other two gives medians of 1.0-1.4,
BENCHMARKS.md). Every optimizer there runs the same seeds on the same settings, and a seed fixes the batches
a search scores, so two methods' searches with one seed are paired. Their log ratio of item runs (first
reach, reach and stay; a search that never gets there counts as the whole budget) averages over every
setting and seed, with a standard error: how a change to the agent, or an ablation of one of its parts,
was measured on tuned worlds before it went to held-out ones.

`python -m benchmarks.paired RESULT.json [--ref agent-reinforce]` reads a stored generalization result.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from benchmarks.common import numbers_label, table
from benchmarks.options import run_function
from benchmarks.searchbench import MEASURES, censored

REFERENCE = "agent-reinforce"


def _value(x: float | None) -> float:
    """A stored measure: None (JSON of inf) is a search that never got there."""
    return math.inf if x is None else float(x)


def paired(settings: list[dict[str, Any]], name: str, cap: int, ref: str = REFERENCE) -> dict[str, Any]:
    """`name` against `ref` over every (setting, seed) both ran: per measure the mean log ratio of censored
    item runs (negative: `name` sooner), its standard error, and how many searches were sooner / later;
    and how many never stayed (each method)."""
    logs: dict[str, list[float]] = {m: [] for m in MEASURES}
    never = {name: 0, ref: 0}
    for s in settings:
        mine = {r["seed"]: r for r in s["runs"].get(name, [])}
        for r0 in s["runs"].get(ref, []):
            r1 = mine.get(r0["seed"])
            if r1 is None:
                continue
            for m in MEASURES:
                logs[m].append(math.log(censored(_value(r1[m]), cap) / censored(_value(r0[m]), cap)))
            never[name] += not math.isfinite(_value(r1["stay"]))
            never[ref] += not math.isfinite(_value(r0["stay"]))
    n = len(logs["first"])
    out: dict[str, Any] = {"method": name, "reference": ref, "pairs": n, "never_stay": never}
    for m in MEASURES:
        x = logs[m]
        out[m] = {
            "mean_log_ratio": round(statistics.mean(x), 4) if x else None,
            "se": round(statistics.stdev(x) / math.sqrt(n), 4) if n > 1 else None,
            "sooner": sum(v < 0 for v in x),
            "later": sum(v > 0 for v in x),
        }
    return out


def paired_all(settings: list[dict[str, Any]], optimizers: tuple[str, ...], cap: int,
               ref: str = REFERENCE) -> dict[str, dict[str, Any]]:
    """Every optimizer other than `ref` against it."""
    return {name: paired(settings, name, cap, ref) for name in optimizers if name != ref}


def render(rows: dict[str, dict[str, Any]]) -> str:
    def cell(p: dict[str, Any], m: str) -> str:
        q = p[m]
        if q["mean_log_ratio"] is None:
            return "-"
        se = "" if q["se"] is None else f" (SE {q['se']:.2f})"
        return f"{q['mean_log_ratio']:+.2f}{se}; {q['sooner']} sooner, {q['later']} later"

    body = [[n, p["pairs"], cell(p, "first"), cell(p, "stay"),
             f"{p['never_stay'][n]} / {p['never_stay'][p['reference']]}"] for n, p in rows.items()]
    ref = next(iter(rows.values()))["reference"] if rows else REFERENCE
    return table(["method", "paired searches", f"first reach: mean log ratio vs {ref}",
                  "reach and stay: mean log ratio", f"never stay: method / {ref}"], body) + (
        f"\n\nSame setting and seed, so the same batch at every iteration; negative: fewer item runs than {ref} "
        "(a search that never gets there counts as the whole budget). Results are simulated.\n")


def worlds_said(data: dict[str, Any]) -> str:
    """Which sim worlds a stored result's figures come from, tuned on or held out (its `tuned_worlds`, first and
    last), and that they are simulated: the table alone named neither."""
    worlds = data.get("worlds") or []
    text = f"sim worlds {numbers_label(worlds)}" if worlds else "sim worlds not recorded"
    tuned = data.get("tuned_worlds")
    if worlds and isinstance(tuned, list) and len(tuned) == 2:
        inside = [tuned[0] <= w <= tuned[1] for w in worlds]
        text += " (tuned on)" if all(inside) else " (held out)" if not any(inside) else " (tuned on and held out)"
    return text + ", simulated"


def command(
    result: Annotated[Path, typer.Argument(help="A generalization result (JSON).")],
    ref: Annotated[str, typer.Option(help="The reference method.")] = REFERENCE,
) -> int:
    """Paired comparison of every method in a stored generalization result with the reference, search by search."""
    try:
        data = json.loads(result.read_text())
        settings, optimizers, cap = data["settings"], tuple(data["optimizers"]), data["config"]["max_evaluations"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"error: {result} is not a readable generalization result ({type(e).__name__}: {e})",
              file=sys.stderr)
        return 2
    if ref not in optimizers:
        print(f"error: {ref} is not among the result's methods ({', '.join(optimizers)})", file=sys.stderr)
        return 2
    try:
        print(f"{result.name}: {worlds_said(data)}\n", flush=True)
        print(render(paired_all(settings, optimizers, cap, ref)), flush=True)
    except BrokenPipeError:  # the reader closed the pipe (`| head`): what it read is all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's documented recipe
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m benchmarks.paired RESULT.json [--ref NAME]`: a wrong option is one line and exit 2 (`run_command`)."""
    return run_function(command, "python -m benchmarks.paired", argv, about=__doc__.split("\n")[0])


if __name__ == "__main__":
    sys.exit(main())

"""`rolegraph optimize` SIGKILLed at many moments and resumed with `--resume`: at fixed paid-call counts
across the whole run, inside checkpoint writes, inside response-cache writes, at seeded random times,
and several times in one run. Each resumed run is compared with the uninterrupted one: best graph,
trace.json, best_graph.yaml, and paid calls (distinct calls over all processes; the last process pays
only for calls not yet stored).

    python -m benchmarks.reliability.kill_resume [--quick]
"""
from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from benchmarks.options import run_function
from benchmarks.reliability.common import write
from tests.reliability.killrun import interrupted, uninterrupted

SEED = 2024
KEEP = ("best_hash", "best_graph", "test", "best_single", "evaluations", "iterations", "simulated")


def moments(total_paid: int, rng: random.Random, quick: bool) -> list[list[str]]:
    fractions = (0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95) if not quick else (0.2, 0.8)
    single = [[f"rows:{max(1, int(total_paid * f))}"] for f in fractions]
    single += [[f"checkpoint:{max(1, int(total_paid * f))}"] for f in ((0.01, 0.3, 0.7) if not quick else (0.3,))]
    single += [[f"cache:{max(1, int(total_paid * f))}"] for f in ((0.02, 0.4, 0.85) if not quick else (0.4,))]
    single += [[f"at:{rng.uniform(2.0, 9.0):.2f}"] for _ in range(3 if not quick else 1)]
    multi = [[f"checkpoint:{int(total_paid * 0.1)}", f"cache:{int(total_paid * 0.45)}",
              f"rows:{int(total_paid * 0.8)}"],
             [f"rows:{int(total_paid * f)}" for f in (0.15, 0.3, 0.45, 0.6, 0.75, 0.9)]]
    return single + (multi if not quick else multi[:1])


def main(quick: Annotated[bool, typer.Option("--quick", help="Fewer kill moments.")] = False) -> None:
    rng = random.Random(SEED)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        started = time.perf_counter()
        ref = uninterrupted(base / "ref")
        ref_s = time.perf_counter() - started
        total = ref.summary["paid_calls"]
        print(f"uninterrupted: {total} paid calls, {ref_s:.1f} s")
        for i, plan in enumerate(moments(total, rng, quick)):
            started = time.perf_counter()
            try:
                got = interrupted(base / f"k{i}", f"k{i}", plan)
                same = ({k: got.summary[k] for k in KEEP} == {k: ref.summary[k] for k in KEEP}
                        and got.trace == ref.trace and got.best_yaml == ref.best_yaml)
                row = {"plan": plan, "kills": got.kills, "identical": same, "paid_calls": got.paid_rows,
                       "paid_uninterrupted": ref.paid_rows,
                       "last_process_paid_only_new": got.last_paid == got.last_new_rows,
                       "checkpoints_after_kill": got.checkpoints_after_kill, "stores_open_cleanly": True, "error": None}
            except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not stop
                row = {"plan": plan, "identical": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
            row["seconds"] = round(time.perf_counter() - started, 1)
            rows.append(row)
            print(f"{i:2d} {' + '.join(plan):40s} kills={len(row.get('kills', []))} identical={row['identical']} "
                  f"paid={row.get('paid_calls')}/{ref.paid_rows} {row['seconds']} s"
                  + (f" {row['error']}" if row["error"] else ""))
    kills = sum(len(r.get("kills", [])) for r in rows)
    ok = sum(1 for r in rows
             if r["identical"] and r.get("paid_calls") == ref.paid_rows and r.get("last_process_paid_only_new"))
    print(f"{kills} kills in {len(rows)} runs; {ok}/{len(rows)} runs identical with equal paid calls")
    path = write("kill_resume", {"uninterrupted": {"paid_calls": total, "seconds": round(ref_s, 1)},
                                 "kills": kills, "runs_identical": ok, "runs": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(run_function(main, "python -m benchmarks.reliability.kill_resume", about=__doc__.split("\n\n")[0]))

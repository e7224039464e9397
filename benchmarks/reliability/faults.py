"""Injected faults through searches bigger than CI's: several fault mixes and seeds at 30%, each search
compared field by field with the fault-free run; the product's default retry policy (6 attempts) is
measured as well as the exactness policy the tests use; and 100% faults mid-search.

    python -m benchmarks.reliability.faults [--quick]
"""
from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from benchmarks.options import run_function
from benchmarks.reliability.common import write
from rolegraph.errors import RolegraphError
from rolegraph.models.openai_backend import MAX_ATTEMPTS
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.sim.faults import FAULT_KINDS, FaultConfig
from rolegraph.sim.server import ServerThread, create_app
from rolegraph.tasks.registry import get_task
from tests.reliability.searching import TEST_ATTEMPTS, comparable, http_models, resume, search, tiny_config

RATE = 0.3
HANG_S = 30.0
MIXES = {
    "all kinds": list(FAULT_KINDS),
    "429 only": ["429"],
    "5xx": ["500", "503"],
    "transport (timeout, reset)": ["timeout", "reset"],
    "bodies (garbage, truncated, empty)": ["garbage", "truncated", "empty"],
}


MAX_RESUMES = 10


def _one(task, config, base: Path, name: str, faults: FaultConfig | None, attempts: int):
    """One search; when it stops (a call out of retries) it is resumed, faults still on, until it ends."""
    app = create_app(ModelPool.builtin(), Settings(home=base / f"srv-{name}", cache=False), faults)
    with ServerThread(app) as server:
        pool = http_models(ModelPool.builtin(), server.base_url)
        settings = Settings(home=base / f"home-{name}")
        started = time.perf_counter()
        stops: list[str] = []
        try:
            result, http = asyncio.run(search(pool, settings, task, config=config, attempts=attempts,
                                              out=base / f"run-{name}"))
        except RolegraphError as exc:
            result, http = None, None
            stops.append(str(exc))
        while result is None and len(stops) <= MAX_RESUMES:
            try:
                result, http = asyncio.run(resume(base / f"run-{name}", pool, settings, task, attempts=attempts))
            except RolegraphError as exc:
                stops.append(str(exc))
        seconds = time.perf_counter() - started
        stats = server.app.state.stats
        return result, http, stops, {"seconds": round(seconds, 1), "requests": stats.requests,
                                     "completions": stats.completions, "faults": dict(stats.faults)}


def main(quick: Annotated[bool, typer.Option("--quick", help="Fewer mixes and a smaller search.")] = False) -> None:
    task = get_task("gsm", size=200)
    config = tiny_config(iterations=3 if quick else 5, samples=3, batch=6, validation_items=8, test_items=12)
    mixes = dict(list(MIXES.items())[:2]) if quick else MIXES
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        ref, ref_http, _, ref_srv = _one(task, config, base, "clean", None, TEST_ATTEMPTS)
        want = comparable(ref)
        print(f"fault-free: {ref.evaluations} item runs, {ref_http.distinct} distinct calls, {ref_http.hub.stats.paid} "
              f"paid, {ref_srv['seconds']} s")
        for i, (mix, kinds) in enumerate(mixes.items()):
            for attempts in (TEST_ATTEMPTS, MAX_ATTEMPTS):
                fc = FaultConfig(rate=RATE, kinds=kinds, seed=100 + i, timeout_s=HANG_S, retry_after_s=0.5)
                res, http, stops, srv = _one(task, config, base, f"{i}-{attempts}", fc, attempts)
                same = res is not None and comparable(res) == want
                row = {"mix": mix, "attempts": attempts, "identical": same, "stops": len(stops),
                       "first_stop": stops[0] if stops else None,
                       "paid": http.hub.stats.paid if http else None, "paid_fault_free": ref_http.hub.stats.paid,
                       "distinct": http.distinct if http else None, "distinct_fault_free": ref_http.distinct,
                       "evaluations": res.evaluations if res else None,
                       "retry_waits": len(http.sleep.waits) if http else None,
                       **srv}
                rows.append(row)
                print(f"{mix:36s} attempts {attempts:2d}: identical={same} faults={sum(srv['faults'].values()):4d}/"
                      f"{srv['requests']:5d} distinct={row['distinct']}/{ref_http.distinct} paid={row['paid']} "
                      f"(fault-free {ref_http.hub.stats.paid}) stops={len(stops)} {srv['seconds']} s")
        all_fail = FaultConfig(rate=1.0, kinds=[k for k in FAULT_KINDS if k != "timeout"], seed=1, timeout_s=HANG_S)
        app = create_app(ModelPool.builtin(), Settings(home=base / "srv-all-fail", cache=False), all_fail)
        with ServerThread(app) as server:
            pool = http_models(ModelPool.builtin(), server.base_url)
            try:
                asyncio.run(search(pool, Settings(home=base / "home-all-fail"), task, config=tiny_config(iterations=1),
                                   attempts=3, out=base / "run-all-fail"))
                error = None
            except RolegraphError as exc:
                error = str(exc)
        rows.append({"mix": "100% (no hangs)", "attempts": 3, "error": error, "completed": error is None})
        print(f"100% faults: error={error!r}")
    path = write("faults", {"rate": RATE, "config": config.to_dict(), "fault_free": {
        "evaluations": ref.evaluations, "paid": ref_http.hub.stats.paid, "distinct": ref_http.distinct, **ref_srv},
        "runs": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(run_function(main, "python -m benchmarks.reliability.faults", about=__doc__.split("\n\n")[0]))

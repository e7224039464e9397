"""`route fit RUN` holds the run directory (`RunLock`) from reading its paired outcomes to writing router.yaml and
the report: beside an `eval --add-to` or a resume's pairing it would read graphs with fit outcomes and no test ones,
and, on a run without paired outcomes, score the front a second time. Refused in one line while another holds it."""
from __future__ import annotations

import json
import os

from rolegraph.errors import SearchError
from rolegraph.optimize import route_fit
from rolegraph.optimize.paired import results_path
from rolegraph.optimize.runlock import RunLock
from tests.cli.support import cli

NO_ROUTING = ["--task", "gsm", "--task-size", "160", "--samples", "2", "--batch", "4", "--validation-items", "4",
              "--test-items", "20", "--iterations", "1", "--route-items", "0", "--budget", "42", "--json"]


def test_route_fit_is_refused_while_the_run_is_held_and_holds_it_while_it_fits(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    run = tmp_path / "run"
    code, _, err = cli(["optimize", *NO_ROUTING, "--out", run], capsys)
    assert code == 0, err
    assert not results_path(run).exists()  # searched with --route-items 0: no paired outcomes yet
    with RunLock.take(run):
        code, out, err = cli(["route", "fit", run], capsys)
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert f"run directory {run} is in use by another rolegraph process (pid {os.getpid()})" in err
    assert not (run / "router.yaml").exists() and not results_path(run).exists()  # nothing scored, nothing written

    seen: list[str] = []
    real = route_fit.fit_route

    def spying(*args, **kwargs):
        try:
            RunLock.take(run).release()
            seen.append("free")
        except SearchError as exc:
            seen.append(str(exc))
        return real(*args, **kwargs)

    monkeypatch.setattr(route_fit, "fit_route", spying)
    code, out, err = cli(["route", "fit", run, "--json"], capsys)  # scores the front itself, then fits
    assert code == 0, err
    assert json.loads(out)["router_file"] == str(run / "router.yaml") and (run / "router.yaml").is_file()
    assert len(seen) == 1 and "is in use by another rolegraph process" in seen[0]
    RunLock.take(run).release()  # and lets go when it ends

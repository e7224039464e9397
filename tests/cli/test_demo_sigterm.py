"""SIGTERM during `rolegraph demo` saves and says so like Ctrl-C, and exits 143 (128 + SIGTERM), as `optimize`
does (README: runs of optimize "and rolegraph demo" resume after Ctrl-C or SIGTERM): the demo ran its search
with a bare asyncio.run, so SIGTERM ended it at once (-15) with no "saved" line and no resume hint."""

from __future__ import annotations

import os
import signal
import time

import pytest

from rolegraph.cli import main
from tests.run_dir_support import signal_after_checkpoint

TINY = ["--task-size", "80", "--samples", "2", "--batch", "4", "--validation-items", "4", "--test-items", "6"]
TERMINATED = 143


def test_sigterm_during_the_demos_search_saves_it_and_names_both_steps(tmp_path):
    run_dir = tmp_path / "d"
    code, _, err = signal_after_checkpoint(["demo", "--iterations", "400", *TINY, "--out", str(run_dir)],
                                           run_dir, tmp_path / "home", timeout_s=120)
    assert code == TERMINATED, err[-2000:]
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("terminated")]
    assert len(lines) == 1 and "the search is saved up to its last checkpoint (iteration " in lines[0], err
    assert lines[0].endswith(
        f"continue with: rolegraph optimize --resume {run_dir}, then fit the demo's router with: "
        f"rolegraph route fit {run_dir}"
    )
    assert (run_dir / "report.md").is_file() and not (run_dir / "router.yaml").exists()


def test_sigterm_while_the_demo_fits_its_router_says_how_to_fit_it(tmp_path, monkeypatch, capsys):
    """After the search, the router fit has no event loop to cancel: SIGTERM there says what Ctrl-C says."""

    def terminated(*_args, **_kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)  # interrupted by the signal's handler
        raise AssertionError("SIGTERM did not stop the router fit")

    def callers(signum, frame):  # the embedding program's: SIGTERM must not reach it while the demo runs
        raise AssertionError("the demo left SIGTERM to its caller's handler")

    before = signal.signal(signal.SIGTERM, callers)
    try:
        _demo_terminated_in_its_router_fit(tmp_path, monkeypatch, capsys, terminated)
        assert signal.getsignal(signal.SIGTERM) is callers  # the handler found is back
    finally:
        signal.signal(signal.SIGTERM, before)


def _demo_terminated_in_its_router_fit(tmp_path, monkeypatch, capsys, terminated) -> None:
    from rolegraph.cli import router_views

    monkeypatch.setattr(router_views, "demo_router", terminated)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--iterations", "1", *TINY, "--out", "d", "--json"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == TERMINATED
    assert err[-1].startswith("terminated (SIGTERM): the search in d is finished")
    assert err[-1].endswith("its router was not fitted: fit it with: rolegraph route fit d")

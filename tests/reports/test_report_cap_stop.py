"""report.md of a run its dollar cap stopped: it says so, with the cap and the dollars paid, and resumes it with
`--max-dollars HIGHER` (a resume without a higher cap stops again at once). It said only "status: search after
iteration N" and gave the plain `--resume` command. A store without the stop's record (every store from before
it was kept) keeps that text."""

from __future__ import annotations

from pathlib import Path

from rolegraph.optimize.rundir import RunStore
from rolegraph.reports import render
from tests.cli.support import cli
from tests.run_dir_support import forget_cap_stop


def _status(run_dir: Path) -> str:
    (line,) = [x for x in (run_dir / "report.md").read_text().splitlines() if x.startswith("- status:")]
    return line


def test_the_report_of_a_cap_stop_names_the_cap_what_was_paid_and_the_higher_cap(run_copy, capsys):
    store = RunStore.open(run_copy)
    assert (store.cap_stop() or "").startswith("dollar cap")  # recorded by `optimize` as it stopped
    paid = store.paid_usd()
    store.close()
    assert 0 < paid < 0.002  # the premise: it paid for calls, under the cap it was refused one past
    code, _, err = cli(["report", run_copy], capsys)
    assert code == 0, err
    status = _status(run_copy)
    assert "stopped by its dollar cap (--max-dollars $0.002; $0.00" in status and " paid on calls so far)" in status
    figure = status.split("; $", 1)[1].split(" paid", 1)[0]
    assert abs(float(figure) - paid) <= 0.00001 + paid * 0.01  # the dollars paid, to money()'s figures
    assert f"`rolegraph optimize --resume {run_copy} --max-dollars HIGHER` continues it" in status
    assert "--resume" not in (run_copy / "report.md").read_text().replace(status, "").replace(
        f"--resume {run_copy} --max-dollars HIGHER", ""
    )  # no hint in the report without the higher cap


def test_a_store_without_the_stop_record_keeps_todays_text(run_copy):
    forget_cap_stop(run_copy)
    render(run_copy)
    status = _status(run_copy)
    assert status.startswith("- status: search after iteration ") and "dollar cap" not in status
    assert "HIGHER" not in (run_copy / "report.md").read_text()


def test_a_cap_stop_before_the_first_checkpoint_starts_it_again_with_the_higher_cap(run_copy):
    from rolegraph.optimize.run_reader import load_run
    from rolegraph.reports.markdown import report_markdown

    run = load_run(run_copy) | {"checkpointed": False, "records": [], "iterations": [], "phase": "new", "iteration": 0}
    run |= {"cap_stop": "dollar cap reached during the pilot step", "paid_usd": 0.001}
    report = report_markdown(run, None, [])
    assert (
        "- status: no checkpoint yet, stopped by its dollar cap (--max-dollars $0.002; $0.001 paid on calls so far): "
        f"`rolegraph optimize --resume {run_copy} --max-dollars HIGHER` starts it again from the beginning; "
    ) in report
    assert f"continue the search with `rolegraph optimize --resume {run_copy} --max-dollars HIGHER`." in report

"""After a dollar cap's stop, every resume hint asks for a higher cap (`rundir.resume_command`): report.html's
"Resume or re-render" line, the restart text of a run with no checkpoint, and a router fit's refusal of an
unfinished run. They said the plain `--resume`, which stops again at once."""

from __future__ import annotations

from rolegraph.optimize.route_inputs import no_outcomes_error
from rolegraph.optimize.run_reader import load_run
from rolegraph.reports import write_html
from rolegraph.reports.wording import restart_text
from tests.run_dir_support import forget_cap_stop


def test_report_html_resumes_with_a_higher_cap(run_copy):
    page = write_html(run_copy).read_text()
    assert f"Resume or re-render: <code>rolegraph optimize --resume {run_copy} --max-dollars HIGHER</code>" in page
    forget_cap_stop(run_copy)  # a store without the stop's record: the plain command
    page = write_html(run_copy).read_text()
    assert f"Resume or re-render: <code>rolegraph optimize --resume {run_copy}</code>" in page


def test_the_restart_text_asks_for_a_higher_cap(run_copy):
    run = load_run(run_copy) | {"checkpointed": False}  # as a run its cap stopped before the first checkpoint
    assert f"`rolegraph optimize --resume {run_copy} --max-dollars HIGHER` starts the search again" in (
        restart_text(run) or ""
    )
    forget_cap_stop(run_copy)
    assert f"`rolegraph optimize --resume {run_copy}` starts the search again" in (restart_text(run) or "")


def test_a_fit_of_the_unfinished_run_resumes_it_with_a_higher_cap(run_copy):
    text = str(no_outcomes_error(run_copy))
    assert f"resume_async('{run_copy}', settings, max_dollars=HIGHER)" in text
    assert f"(CLI: rolegraph optimize --resume {run_copy} --max-dollars HIGHER)" in text
    forget_cap_stop(run_copy)
    text = str(no_outcomes_error(run_copy))
    assert f"resume_async('{run_copy}', settings)" in text and "HIGHER" not in text

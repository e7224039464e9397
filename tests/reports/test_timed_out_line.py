"""report.md's Setup line for requests the run's sessions abandoned at a timeout: the run's total over all sessions
(a checkpoint's figure counts when it is the larger), in `timed_out_note`'s words with the attempts and the
worst-case dollars, and no line at all when there were none. Figures chosen by hand."""

from __future__ import annotations

from rolegraph.optimize.rundir import RunStore
from rolegraph.reports.markdown import cap_stop_facts, timed_out_text


def test_the_line_gives_the_attempts_and_dollars_over_all_sessions():
    line = timed_out_text({"timed_out": (3, 1.25)})
    assert line is not None
    assert line.startswith("over all sessions, 3 request(s) timed out")
    assert "$1.25" in line


def test_no_line_without_timed_out_requests():
    assert timed_out_text({"timed_out": (0, 0.0)}) is None
    assert timed_out_text({}) is None


def test_the_facts_take_a_checkpoints_larger_figure(tmp_path):
    store = RunStore.create(tmp_path / "run", {})
    try:
        store.set_timed_out(2, 0.5)
        state = {"iterations": [], "timed_out_attempts": 6, "timed_out_usd": 0.25}
        store.save_checkpoint(1, "search", state, [], [], {})
    finally:
        store.close()
    assert cap_stop_facts(tmp_path / "run")["timed_out"] == (6, 0.5)

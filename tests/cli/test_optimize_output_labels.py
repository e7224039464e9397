"""`rolegraph optimize`'s closing lines label each score by what answered it: in a mixed pool (sim and real models)
the run is partly simulated, but a best graph or best single model answered only by real models is real, and is
not placed "in world N" (a real model answers in no simulator world). The summary line counts the GP agent's
pilot, run as an extra iteration 0, as report.md does: `--iterations 1` beside two feedback steps is no miscount."""
from __future__ import annotations

import pytest

from rolegraph.cli import optimize_cmd
from rolegraph.cli.optimize_output import print_result
from rolegraph.models.provenance import PARTLY, REAL
from tests.cli.support import cli

TINY = ["--task-size", "80", "--samples", "2", "--batch", "4", "--validation-items", "4", "--test-items", "6"]


@pytest.fixture
def sim_run(tmp_path, monkeypatch, capsys):
    """A tiny sim-pool search through the real CLI: (its printed text, the result object it printed)."""
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ROLEGRAPH_POOL", raising=False)
    monkeypatch.setenv("COLUMNS", "400")  # one line per score, however long
    seen = []

    def keep(result, elapsed=None):
        seen.append(result)
        print_result(result, elapsed)

    monkeypatch.setattr(optimize_cmd, "print_result", keep)
    code, out, err = cli(["optimize", "--task", "gsm", "--iterations", "2", "--out", tmp_path / "run", *TINY], capsys)
    assert code == 0, err
    assert len(seen) == 1
    return out, seen[0]


def _line(out: str, start: str) -> str:
    lines = [line for line in out.splitlines() if line.startswith(start)]
    assert len(lines) == 1, out
    return lines[0]


def test_a_sim_pool_search_labels_both_scores_simulated_in_its_world(sim_run):
    out, _ = sim_run
    assert _line(out, "best graph:").endswith("(simulated) in world 0")
    assert _line(out, "best single model").endswith("(simulated) in world 0")
    assert "best graph found by agent-reinforce (simulated) in world 0" in out


def test_real_scores_of_a_partly_simulated_run_are_not_labelled_simulated(sim_run, capsys):
    _, result = sim_run
    # the mixed pool's result: the run partly simulated, its best graph and best single answered by real models
    real_test = result.test.model_copy(update={"simulated": False, "simulation": REAL})
    real_singles = [s.model_copy(update={"simulated": False, "simulation": REAL}) for s in result.singles]
    mixed = result.model_copy(
        update={"simulation": PARTLY, "simulated": False, "world": 0, "test": real_test, "singles": real_singles}
    )
    print_result(mixed)
    out = capsys.readouterr().out
    for start in ("best graph:", "best single model"):
        line = _line(out, start)
        assert "simulated" not in line and "world" not in line, line
    assert "best graph found by agent-reinforce (partly" not in out
    # the run as a whole is still partly simulated, and says so
    assert "partly simulated results: they show the search working" in out


def test_a_partly_simulated_best_graph_beside_a_real_single_is_labelled_each_its_own(sim_run, capsys):
    _, result = sim_run
    real_singles = [s.model_copy(update={"simulated": False, "simulation": REAL}) for s in result.singles]
    partly_test = result.test.model_copy(update={"simulated": False, "simulation": PARTLY})
    mixed = result.model_copy(
        update={"simulation": PARTLY, "simulated": False, "world": 3, "test": partly_test, "singles": real_singles}
    )
    print_result(mixed)
    out = capsys.readouterr().out
    assert _line(out, "best graph:").endswith("(partly simulated) in world 3")
    single = _line(out, "best single model")
    assert "simulated" not in single and "world" not in single, single


def test_the_summary_line_says_the_gp_agents_pilot_ran_as_one_more_iteration(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "400")  # the summary on one line
    code, out, err = cli(["optimize", "--task", "gsm", "--optimizer", "agent-reinforce:gp", "--iterations", "1",
                          "--out", tmp_path / "run", *TINY], capsys)
    assert code == 0, err
    line = next(x for x in out.splitlines() if "item-level graph runs" in x)
    assert " item-level graph runs over 1 iterations plus the pilot (its evaluations are iteration 0 of the curve) " \
           "as one more feedback step, feedback agent statistical" in line, line
    assert "2 steps" in line, line  # the pilot's and iteration 1's
    # report.md places the pilot's feedback the same way
    assert "**pilot (its evaluations are iteration 0 of the curve)**" in (tmp_path / "run" / "report.md").read_text()


def test_a_pilot_inside_the_iterations_is_not_counted_again(sim_run):
    out, _ = sim_run  # agent-reinforce's pilot takes iterations 1..k: nothing runs before iteration 1
    line = next(x for x in out.splitlines() if "item-level graph runs" in x)
    assert " item-level graph runs over 2 iterations, feedback agent " in line and "pilot" not in line, line

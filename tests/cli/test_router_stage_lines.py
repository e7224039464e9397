"""The lines after a router run's table and `eval --add-to --json`'s kept graphs: a stage that answered says
"answered" and one that escalated "escalated", an agreement of 0 is shown as 0.00 (only an unobserved one is "-"),
and a graph the run held already is said to be kept as it was."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from rolegraph.cli.router_views import add_to_object, print_stages
from rolegraph.graphs.signals import Signals
from tests.evaluate.test_store import make_result, vote_graph


def stage(number: int, stopped: bool, agreement: float | None) -> SimpleNamespace:
    return SimpleNamespace(stage=number, graph_name=f"g{number}", answer="7", signals=Signals(agreement=agreement),
                           stopped=stopped, reused=[], flops_units=1.0)


def test_each_stage_says_whether_it_answered_and_its_agreement(capsys):
    print_stages(SimpleNamespace(stages=[stage(1, False, 0.0), stage(2, True, None)]))
    out = " ".join(capsys.readouterr().out.split())  # the console wraps at 80 columns
    assert "stage 1 (g1): answer 7, agreement 0.00, verifier -, 1.00 FLOPs units -> escalated" in out
    assert "stage 2 (g2): answer 7, agreement -, verifier -, 1.00 FLOPs units -> answered" in out


def test_a_graph_the_run_held_is_said_to_be_kept_and_a_new_one_is_not():
    spec, res = vote_graph(), make_result(vote_graph())
    kept = add_to_object("test", res, spec, Path("g.yaml"), False, Path("r.sqlite"))
    added = add_to_object("test", res, spec, Path("g.yaml"), True, Path("r.sqlite"))
    assert kept["note"] == "already in the run's paired outcomes: kept as it was" and "note" not in added
    assert (kept["added"], added["added"]) == (False, True)

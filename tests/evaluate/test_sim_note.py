"""The note under result tables says only the sentence that applies: simulated, partly simulated, or none."""
from __future__ import annotations

from rolegraph.evaluate.report import SIM_NOTES, sim_note


def test_the_note_names_only_what_the_results_are():
    simulated, partly = sim_note(["simulated"]), sim_note(["partly simulated"])
    assert simulated.startswith("simulated:") and "partly" not in simulated
    assert partly.startswith("partly simulated:") and "stand-ins" in partly
    assert sim_note(["simulated", "simulated"]) == simulated
    assert sim_note(["simulated", "real"]) == partly  # a table mixing them is partly simulated
    assert sim_note(["real"]) == "" and sim_note([None]) == "" and sim_note([]) == ""
    assert set(SIM_NOTES) == {"simulated", "partly simulated"}

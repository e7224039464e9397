"""Words report.md and report.html both say, written once so the two pages never tell a run differently: where
a feedback record sits in the search, what the best graph is called before a choice is made, and what the
feedback section says when there is none.
"""

from __future__ import annotations

from rolegraph.money import money
from rolegraph.optimize.rundir import resume_command
from rolegraph.optimize.space import BUDGET_UNITS
from rolegraph.optimize.trace import EvalRecord
from rolegraph.optimize.warmstart import PRIOR_PHASE, WARM_AGENT

CHOSEN = "chosen graph"
BEST_SO_FAR = "best graph so far (not yet chosen)"
"""An unfinished run (stopped in the search, or before its final check) has no choice yet, only a leader."""
NO_FEEDBACK_OPTIMIZER = "This optimizer writes no textual gradients (only Agent-REINFORCE's feedback agent does)."


def feedback_label(iteration: int, records: list[EvalRecord], agent: str | None = None) -> str:
    """The feedback's place in the search. The pilot's feedback is stored as iteration 0 (it comes before the
    first update), but the pilot's own evaluations are iterations 1..k of the trace and the curve: say which.
    A warm start's note (`agent` WARM_AGENT) is also iteration 0; the evaluations it imported keep the source
    ('pilot', 'search') they had in the earlier run but are phase PRIOR_PHASE, never this run's pilot (a
    warm-started TPE run, which has no pilot, read as having one)."""
    if agent == WARM_AGENT:
        return "warm start"
    if iteration != 0:
        return f"iteration {iteration}"
    pilot = sorted({r.iteration for r in own_pilot(records)})
    if not pilot:
        return "initialisation"
    span = f"iteration {pilot[0]}" if len(pilot) == 1 else f"iterations {pilot[0]}-{pilot[-1]}"
    return f"pilot (its evaluations are {span} of the curve)"


def own_pilot(records: list[EvalRecord]) -> list[EvalRecord]:
    """This run's pilot evaluations (not those a warm start imported from an earlier run's pilot)."""
    return [r for r in records if r.phase != PRIOR_PHASE and "pilot" in (r.source, r.phase)]


def best_graph_name(run: dict) -> str:
    """What the report calls the graph it draws: the choice of a finished run, the leader of an unfinished one
    (calling a leader "chosen" would claim a decision the search never made)."""
    return CHOSEN if run["final"] is not None else BEST_SO_FAR


def writes_feedback(run: dict) -> bool:
    """The run's optimizer has a feedback agent (Agent-REINFORCE's config names one), whether or not it spoke yet."""
    return run["config"]["optimizer"].get("agent") is not None


def no_feedback_text(run: dict) -> str | None:
    """The feedback section's sentence when the run holds no feedback record (None when it holds some): a run
    stopped before its feedback agent first spoke says so, rather than that its optimizer writes none."""
    if run["feedback"]:
        return None
    if not writes_feedback(run):
        return NO_FEEDBACK_OPTIMIZER
    if run["final"] is not None:
        return "Its feedback agent wrote no feedback in this run."
    if not run["iteration"]:
        return "No feedback yet (stopped before its first iteration ended)."
    return f"No feedback yet (stopped after iteration {run['iteration']})."


def budget_text(space: dict) -> str:
    """A stored search space's budget as both reports state it: "$0.30 per item" (the project's money format,
    so a dollar budget of 0.1 + 0.2 never reads 0.30000000000000004, nor a tiny one 1e-05), "18 FLOPs units",
    or "none"."""
    budget = space.get("budget")
    if budget is None:
        return "none"
    kind = space["budget_kind"]
    if kind == "dollars":
        return f"{money(budget)} per item"
    return f"{budget:g} {BUDGET_UNITS.get(kind, kind)}"


def restart_text(run: dict) -> str | None:
    """What a report says of a run stopped before its first checkpoint (None for one that has one): there is no
    state to resume, so `--resume` starts the search again from the beginning with its stored settings. Called
    "resumable", such a run reads as if some of its search were kept; what is kept is its calls, in the response
    cache, which the new start answers from rather than paying again. After a dollar cap's stop the command asks
    for a higher cap (`resume_command`): the same cap would stop the new start at once."""
    if run["checkpointed"]:
        return None
    return (
        "stopped before its first checkpoint: nothing to resume; "
        f"`{resume_command(run['run_dir'])}` starts the search again from the beginning with its stored "
        "settings (calls already made are answered from the response cache)"
    )


def capitalised(text: str) -> str:
    """A label as a title: its first letter upper case, the rest as written (names and commands keep theirs)."""
    return text[:1].upper() + text[1:]


__all__ = [
    "BEST_SO_FAR",
    "CHOSEN",
    "best_graph_name",
    "budget_text",
    "capitalised",
    "feedback_label",
    "no_feedback_text",
    "own_pilot",
    "restart_text",
    "writes_feedback",
]

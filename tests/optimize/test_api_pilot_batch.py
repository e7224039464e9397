"""`AgentReinforce(pilot_batch=...)`: the racing agent's pilot runs on the loop's batches, so the argument is
refused when no agent could use it, warned about when it could, and not stored with the run as if it mattered."""
from __future__ import annotations

import warnings

import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize.agent_reinforce_race import AgentReinforce
from rolegraph.optimize.ignored_options import stored_options
from rolegraph.optimize.methods import make_optimizer
from rolegraph.optimize.rundir import RunStore

from .helpers import run, tiny_config


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "8"])
def test_a_pilot_batch_no_agent_could_use_is_refused(bad):
    with pytest.raises(SearchError, match="pilot_batch must be a whole number"):
        AgentReinforce(pilot_batch=bad)


def test_a_given_pilot_batch_is_said_to_do_nothing_at_the_callers_line():
    with pytest.warns(UserWarning, match="ignores pilot_batch=8") as caught:
        opt = AgentReinforce(pilot_batch=8)
    assert caught[0].filename == __file__  # the warning points at the user's line, not into the package
    assert "pilot_batch" not in opt.config()


def test_no_pilot_batch_gives_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AgentReinforce()
        make_optimizer("agent-reinforce")


def test_a_run_searched_with_a_pilot_batch_does_not_store_it(pool, small_task, tmp_path):
    with pytest.warns(UserWarning, match="ignores pilot_batch"):
        opt = AgentReinforce(pilot_batch=4)
    run(pool, tmp_path / "home", small_task, opt, config=tiny_config(), out=tmp_path / "run")
    store = RunStore.open(tmp_path / "run")
    try:
        stored = store.config()["optimizer"]
    finally:
        store.close()
    assert stored["name"] == "agent-reinforce" and "pilot_batch" not in stored


def test_an_old_runs_stored_pilot_batch_is_dropped_only_where_it_was_unused():
    old = {"pilot_batch": 4, "step_size": 0.5}
    assert stored_options("agent-reinforce", old) == {"step_size": 0.5}
    assert stored_options("agent-reinforce:pilot-only", old) == {"step_size": 0.5}
    assert stored_options("agent-reinforce:gp", old) == old  # the GP agent sizes its pilot with it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_optimizer("agent-reinforce", **stored_options("agent-reinforce", old))

"""Warm starts: a search begins from an earlier run's distribution and evidence, paying for no call again."""
from __future__ import annotations

import numpy as np
import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize.api import make_optimizer
from rolegraph.optimize.baselines.tpe import TPESearch
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.rundir import RunStore
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.trace import CHARGED_PHASES
from rolegraph.optimize.warmstart import WARM_AGENT, WarmStart, transfer

from .helpers import run, tiny_config, tiny_space

S1, S3, S8 = "sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b"


def test_the_distribution_moves_to_a_new_space_by_model_and_role_names(pool):
    old = SearchSpace(pool=pool, models=(S1, S3), roles=("solver", "fuser"), max_nodes=3, budget=None)
    new = SearchSpace(pool=pool, models=(S3, S8), roles=("fuser", "verifier", "solver"), max_nodes=4, budget=None)
    pg = ProbabilisticGraph(old)
    rng = np.random.default_rng(0)
    for a in pg.logits.arrays():
        a[...] = rng.normal(0, 2, a.shape)
    moved = transfer(pg.to_dict(), old, new).logits
    assert moved.models[0, 0] == pg.logits.models[0, 1]  # 3B: same logit
    assert moved.models[1, 1] == pytest.approx(pg.logits.models[1].mean())  # 8B was not there: neutral
    assert moved.roles[0, 0] == pg.logits.roles[0, 1] and moved.roles[0, 2] == pg.logits.roles[0, 0]
    assert moved.presence[:2].tolist() == pg.logits.presence.tolist()
    assert moved.presence[2] == ProbabilisticGraph(new).logits.presence[2]  # a slot the old space lacked
    old_pg, new_pg = ProbabilisticGraph(old), ProbabilisticGraph(new)
    assert moved.edges[new_pg.edge_index(1, 3)] == pg.logits.edges[old_pg.edge_index(1, 2)]  # n1 -> out
    assert moved.edges[new_pg.edge_index(0, 1)] == pg.logits.edges[old_pg.edge_index(0, 1)]


def test_agent_reinforce_continues_from_an_earlier_run_without_a_pilot(pool, small_task, tmp_path):
    # past its pilot, so its distribution learnt something (an untrained one is not adopted: test_warmstart_untrained)
    first = run(pool, tmp_path / "home", small_task, "agent-reinforce", out=tmp_path / "a",
                config=tiny_config(iterations=5))
    assert any(f.agent == "statistical" and f.iteration > 0 for f in first.trace.feedback)
    hubs: list = []
    again = run(pool, tmp_path / "home", small_task, "agent-reinforce", out=tmp_path / "b",
                init_from=tmp_path / "a", config=tiny_config(iterations=1), hub_out=hubs)
    phases = [r.phase for r in again.trace.records]
    assert "pilot" not in phases and phases.count("prior") == sum(
        1 for r in first.trace.records if r.phase in ("pilot", "search"))
    assert again.evaluations == sum(r.n for r in again.trace.records if r.phase in CHARGED_PHASES)
    warm = [f for f in again.trace.feedback if f.agent == WARM_AGENT]
    assert warm and "the distribution" in warm[0].summary and str(tmp_path / "a") in warm[0].summary
    store = RunStore.open(tmp_path / "b")
    try:
        assert store.config()["init_from"] == str(tmp_path / "a")
    finally:
        store.close()
    report = (tmp_path / "b" / "trace.json").read_text()
    assert '"prior"' in report


def test_a_restart_with_nothing_new_to_score_pays_for_no_call(pool, small_task, tmp_path):
    first = run(pool, tmp_path / "home", small_task, "reinforce", out=tmp_path / "a")
    hubs: list = []
    again = run(pool, tmp_path / "home", small_task, "reinforce", out=tmp_path / "b", init_from=tmp_path / "a",
                config=tiny_config(iterations=0), hub_out=hubs)
    counts = {"calls", "cached_calls"}  # stored since the resume fix: the restart's test calls all came from the cache
    assert again.best_hash == first.best_hash
    assert again.test.model_dump(exclude=counts) == first.test.model_dump(exclude=counts)
    assert again.test.calls == first.test.calls == again.test.cached_calls > 0 and first.test.cached_calls == 0
    assert hubs[0].paid == 0


def test_evidence_from_another_task_is_not_imported_and_tpe_takes_evidence_as_trials(pool, small_task, tmp_path):
    run(pool, tmp_path / "home", small_task, "random", out=tmp_path / "a")
    warm = WarmStart.load(tmp_path / "a")
    assert warm.same_task({"name": "gsm", "size": 80}) and not warm.same_task({"name": "gsm", "size": 90})
    other = run(pool, tmp_path / "home", small_task, "random", out=tmp_path / "b", init_from=tmp_path / "a",
                task_args={"name": "gsm", "size": 90})
    assert not any(r.phase == "prior" for r in other.trace.records)
    note = next(f for f in other.trace.feedback if f.agent == WARM_AGENT)
    assert any("the same task at another size (80 -> 90 items)" in h for h in note.hurt), note.hurt
    assert any("no distribution" in h for h in note.hurt), note.hurt
    tpe = TPESearch()
    result = run(pool, tmp_path / "home", small_task, tpe, out=tmp_path / "c", init_from=tmp_path / "a")
    prior = [r for r in result.trace.records if r.phase == "prior"]
    assert prior and len(tpe.trials) >= len(prior)


def test_warm_start_mistakes_are_one_line_errors_before_anything_is_written(pool, small_task, tmp_path):
    (tmp_path / "plain").mkdir()
    with pytest.raises(SearchError, match="not a search run directory"):
        run(pool, tmp_path / "home", small_task, "random", out=tmp_path / "x", init_from=tmp_path / "plain")
    run(pool, tmp_path / "home", small_task, "random", out=tmp_path / "a")
    space = tiny_space(pool, models=(S1,), roles=("solver", "fuser"), max_nodes=2)
    with pytest.raises(SearchError, match="cannot start from an earlier run"):
        run(pool, tmp_path / "home", small_task, make_optimizer("exhaustive"), space=space, out=tmp_path / "y",
            init_from=tmp_path / "a")
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()

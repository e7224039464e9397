"""A warm start and roles of the user's own: a graph using a role this search defines otherwise than the earlier
run did is another graph under the same name, so its evidence stays behind (and says so), while graphs of
built-in roles, and graphs of a role defined the same way, still carry over."""
from __future__ import annotations

import numpy as np
import pytest

from rolegraph.agents.roles_file import register_defs
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.rundir import RunStore
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.warmstart import WARM_AGENT, WarmStart, transfer

from .helpers import run, tiny_config, tiny_space

FIX = {"name": "critic", "prompt": "Fix the answers above. {answer_format}", "parser": "answer"}
COMMENT = {"name": "critic", "prompt": "Comment on the answers above, then answer. {answer_format}",
           "parser": "answer"}
S1, S3 = "sim/llama-3.2-1b", "sim/llama-3.2-3b"


def _space(pool, definition):
    return tiny_space(pool, roles=("solver", "critic"), registry=register_defs([definition]))


def _stored_graphs(run_dir) -> dict[str, dict]:
    store = RunStore.open(run_dir)
    try:
        return store.graphs()
    finally:
        store.close()


@pytest.fixture
def earlier(pool, small_task, tmp_path):
    """A run whose training evaluations include graphs with the critic (FIX) and graphs without one."""
    run(pool, tmp_path / "home", small_task, "random", space=_space(pool, FIX), out=tmp_path / "a",
        config=tiny_config(iterations=2, samples=4))
    warm = WarmStart.load(tmp_path / "a")
    with_critic = sum(1 for r in warm.records if any(n["role"] == "critic" for n in warm.graphs[r.graph_hash]["nodes"]))
    assert 0 < with_critic < len(warm.records)  # the premise: both kinds of evidence exist
    return tmp_path / "a", warm, with_critic


def test_evidence_of_a_role_defined_otherwise_is_not_imported_and_the_note_names_it(pool, small_task, tmp_path,
                                                                                    earlier):
    first, warm, with_critic = earlier
    again = run(pool, tmp_path / "home", small_task, "random", space=_space(pool, COMMENT), out=tmp_path / "b",
                init_from=first, config=tiny_config(iterations=0))
    prior = [r for r in again.trace.records if r.phase == "prior"]
    graphs = _stored_graphs(tmp_path / "b")
    note = next(f for f in again.trace.feedback if f.agent == WARM_AGENT)
    assert len(prior) == len(warm.records) - with_critic  # every critic-free evaluation carried over
    stale = [h for h in note.hurt if "defined otherwise than in the earlier run" in h]
    assert stale and stale[0].startswith(f"{with_critic} evaluations of ") and "role 'critic': its prompt differs" in \
        stale[0]
    assert not any(n["role"] == "critic" for r in prior for n in graphs[r.graph_hash]["nodes"])
    assert again.warm_start is not None and stale[0] in again.warm_start["not_carried"]


def test_a_role_defined_the_same_way_carries_over(pool, small_task, tmp_path, earlier):
    first, warm, _ = earlier
    again = run(pool, tmp_path / "home", small_task, "random", space=_space(pool, dict(FIX)), out=tmp_path / "b",
                init_from=first, config=tiny_config(iterations=0))
    assert sum(1 for r in again.trace.records if r.phase == "prior") == len(warm.records)
    assert again.warm_start is not None
    assert not any("defined otherwise" in h for h in again.warm_start["not_carried"])


def test_changed_roles_compares_stored_definitions_and_ignores_builtins(pool, small_task, tmp_path, earlier):
    _, warm, _ = earlier
    assert warm.changed_roles(register_defs([FIX])) == {}
    assert set(warm.changed_roles(register_defs([COMMENT]))) == {"critic"}
    assert "no definition" in warm.changed_roles(None)["critic"]  # the critic now registered in Python, or gone
    older = WarmStart(warm.source, {k: v for k, v in warm.config.items() if k != "role_defs"}, None, [], {})
    assert "the earlier run had no definition" in older.changed_roles(register_defs([FIX]))["critic"]


def test_a_role_defined_otherwise_starts_neutral_in_the_distribution(pool):
    reg_a, reg_b = register_defs([FIX]), register_defs([COMMENT])
    old = SearchSpace(pool=pool, models=(S1, S3), roles=("solver", "critic"), max_nodes=3, budget=None,
                      registry=reg_a)
    new = SearchSpace(pool=pool, models=(S1, S3), roles=("solver", "critic"), max_nodes=3, budget=None,
                      registry=reg_b)
    pg = ProbabilisticGraph(old)
    rng = np.random.default_rng(1)
    for a in pg.logits.arrays():
        a[...] = rng.normal(0, 2, a.shape)
    same = transfer(pg.to_dict(), old, new).logits
    fresh = transfer(pg.to_dict(), old, new, frozenset({"critic"})).logits
    k = new.worker_roles.index("critic")
    assert same.roles[0, k] == pg.logits.roles[0, k]
    assert fresh.roles[0, k] == pytest.approx(pg.logits.roles[0].mean()) != pg.logits.roles[0, k]
    assert fresh.roles[0, new.worker_roles.index("solver")] == pg.logits.roles[0, old.worker_roles.index("solver")]


def test_a_carried_distribution_says_the_role_defined_otherwise_starts_neutral(pool, small_task, tmp_path):
    run(pool, tmp_path / "home", small_task, "reinforce", space=_space(pool, FIX), out=tmp_path / "a")
    again = run(pool, tmp_path / "home", small_task, "reinforce", space=_space(pool, COMMENT), out=tmp_path / "b",
                init_from=tmp_path / "a", config=tiny_config(iterations=0))
    assert again.warm_start is not None and "the distribution" in again.warm_start["carried"]
    assert "role 'critic' starts neutral in the distribution (defined otherwise than in the earlier run)" in \
        again.warm_start["not_carried"]
    same = run(pool, tmp_path / "home", small_task, "reinforce", space=_space(pool, FIX), out=tmp_path / "c",
               init_from=tmp_path / "a", config=tiny_config(iterations=0))
    assert same.warm_start is not None and same.warm_start["not_carried"] == []

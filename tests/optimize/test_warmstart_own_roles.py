"""A warm start rebuilds the earlier run's space with the roles that run stored, as `--resume` does.

The earlier space was loaded with the new search's roles: a run that used a role from its roles file, warm-started
by a search without that file, said "the earlier run's space no longer loads (unknown role 'critic' ...)" and threw
its distribution away, although the README says the stored definitions let `--init-from` rebuild them. The
distribution now carries over for the roles the new space has.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from rolegraph.agents.roles_file import register_defs
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.warmstart import WarmStart, distribution_for
from tests.cli.support import cli

from .helpers import run, tiny_config, tiny_space

CRITIC = {"name": "critic", "prompt": "Fix the answers above. {answer_format}", "parser": "answer"}
ROLES_FILE = """roles:
  - name: critic
    prompt: |
      Find the mistakes and write the corrected answer.
      {answer_format}
    answers: true
    parser: answer
"""


@pytest.fixture
def earlier(pool, small_task, tmp_path):
    """A run with a distribution over the roles solver and critic (critic from a definition of the user's own)."""
    space = tiny_space(pool, roles=("solver", "critic"), registry=register_defs([CRITIC]))
    run(pool, tmp_path / "home", small_task, "reinforce", space=space, out=tmp_path / "a",
        config=tiny_config(iterations=3))  # moves it: an untrained one is not carried
    return tmp_path / "a", space


def test_a_search_without_the_roles_file_still_takes_the_distribution(pool, small_task, tmp_path, earlier):
    first, _ = earlier
    again = run(pool, tmp_path / "home", small_task, "reinforce", space=tiny_space(pool), out=tmp_path / "b",
                init_from=first, config=tiny_config(iterations=1))
    assert again.warm_start is not None
    assert "the distribution" in again.warm_start["carried"], again.warm_start
    assert not any("no longer loads" in note for note in again.warm_start["not_carried"]), again.warm_start


def test_the_carried_logits_are_the_earlier_ones_for_the_roles_both_spaces_have(pool, earlier):
    first, old_space = earlier
    warm = WarmStart.load(first)
    assert warm.distribution is not None
    pg = ProbabilisticGraph(old_space)  # logits unlike any default, in the earlier run's layout
    rng = np.random.default_rng(3)
    for a in pg.logits.arrays():
        a[...] = rng.normal(0, 2, a.shape)
    warm.distribution = pg.to_dict()
    new_space = tiny_space(pool)  # built-in roles only: no critic
    carried = distribution_for(warm, new_space, pool)
    assert carried is not None, warm.notes
    old = pg.logits
    solver_then, solver_now = old_space.worker_roles.index("solver"), new_space.worker_roles.index("solver")
    assert "critic" in old_space.worker_roles and "critic" not in new_space.worker_roles
    for slot in range(min(old_space.worker_slots, new_space.worker_slots)):
        assert carried.logits.roles[slot, solver_now] == old.roles[slot, solver_then]
    assert any(old.roles[0, solver_then] != v for v in ProbabilisticGraph(new_space).logits.roles[0])  # not defaults


def test_the_command_line_carries_it_too(tmp_path, capsys):
    """The probe's commands: the earlier run with --roles-file, the new one with --init-from and no roles file."""
    (tmp_path / "roles.yaml").write_text(ROLES_FILE)
    small = ["--task", "gsm", "--task-size", "60", "--iterations", "1", "--samples", "2", "--batch", "4",
             "--validation-items", "4", "--test-items", "4", "--route-items", "0"]
    # REINFORCE learns from its first steps (Agent-REINFORCE's pilot would take them all: nothing to carry)
    code, _, err = cli(["optimize", *small, "--iterations", "3", "--optimizer", "reinforce", "--out", tmp_path / "rr2",
                        "--roles", "solver,critic", "--roles-file", tmp_path / "roles.yaml"], capsys)
    assert code == 0, err
    code, out, err = cli(["optimize", *small, "--out", tmp_path / "rr3", "--init-from", tmp_path / "rr2", "--json"],
                         capsys)
    assert code == 0, err
    warm = json.loads(out)["warm_start"]
    assert "the distribution" in warm["carried"], warm
    # the earlier graphs with a critic are outside this space (no roles file): said, not silently dropped
    assert all("outside this space" in note for note in warm["not_carried"]), warm


def test_a_role_registered_in_python_still_loads_with_this_searchs_roles(pool, small_task, tmp_path):
    """No stored definition (registered with a parser function): this search's roles, by name, as before."""
    from rolegraph.agents.registry import RoleRegistry

    registry = RoleRegistry.default()
    registry.register("checker", "Check the answers above. {answer_format}", lambda text, **_: None, answers=False)
    space = SearchSpace(pool=pool, models=tiny_space(pool).models, roles=("solver", "checker"), max_nodes=4,
                        budget=18.0, registry=registry)
    learnt = ProbabilisticGraph(space)
    learnt.logits.roles[0, 0] += 1.0  # moved from the start: an untrained one is not carried at all
    warm = WarmStart(str(tmp_path), {"space": space.to_dict(), "role_defs": []}, learnt.to_dict(), [], {})
    assert distribution_for(warm, space, pool) is not None, warm.notes

"""A run searched over a role registered in Python resumes from Python: a role given as a template alone is
stored with the run like a roles file's; one with a Python parser cannot be, and the refusal says how to pass
it from Python, not only the command line's --roles-file."""
from __future__ import annotations

import asyncio

import pytest

from rolegraph.agents.parsers import parse_answer
from rolegraph.agents.registry import RoleRegistry
from rolegraph.errors import SearchError
from rolegraph.models.hub import ModelHub
from rolegraph.optimize.api import resume_async
from rolegraph.settings import Settings

from .helpers import run, tiny_config, tiny_space

CRITIC = "Find the mistakes in the candidate answers and write the corrected answer.\n{answer_format}"


def _search(pool, small_task, tmp_path, registry):
    space = tiny_space(pool, roles=("solver", "critic"), registry=registry)
    return run(pool, tmp_path / "home", small_task, "random", space=space, config=tiny_config(), out=tmp_path / "run")


def _resume(pool, tmp_path, **kwargs):
    async def main():
        hub = ModelHub(pool, Settings(home=tmp_path / "home"))
        try:
            return await resume_async(tmp_path / "run", hub.settings, hub=hub, **kwargs)
        finally:
            await hub.aclose()

    return asyncio.run(main())


def test_a_template_role_comes_back_from_the_run_itself(pool, small_task, tmp_path):
    reg = RoleRegistry.default()
    reg.register("critic", CRITIC, temperature=0.2)
    first = _search(pool, small_task, tmp_path, reg)
    again = _resume(pool, tmp_path)  # no roles passed: the run stored the critic's definition
    assert again.best_hash == first.best_hash


def test_a_role_with_a_python_parser_is_asked_for_from_python(pool, small_task, tmp_path):
    reg = RoleRegistry.default()
    reg.register("critic", CRITIC, parser=lambda text: parse_answer(text, "math"))
    first = _search(pool, small_task, tmp_path, reg)
    with pytest.raises(SearchError, match=r"'critic'.*resume_async\(run_dir, settings, roles=registry\)"):
        _resume(pool, tmp_path)
    assert _resume(pool, tmp_path, roles=reg).best_hash == first.best_hash

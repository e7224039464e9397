"""`pair_run` and `add_to_run` of a run whose roles were registered in Python: a run cannot store a Python parser,
so both take the run's RoleRegistry (`roles=`) as `resume_async` does; without it, or with a registry lacking a
role the run used, they refuse in one line naming the role. A built-in role replaced from Python cannot be told
apart from the built-in one when the run is reopened, so the search says so, in one line, as it starts."""
from __future__ import annotations

import asyncio

import pytest

from rolegraph.agents.parsers import parse_answer
from rolegraph.agents.registry import ReplacedBuiltinWarning, RoleRegistry
from rolegraph.errors import SearchError
from rolegraph.evaluate.store import ResultsStore
from rolegraph.graphs.builder import Graph
from rolegraph.optimize.paired import FIT, PAIRED_SET, TEST, results_path
from rolegraph.optimize.rebuild import add_to_run, pair_run
from rolegraph.settings import Settings

from .helpers import run, tiny_config, tiny_space

CRITIC = "Find the mistakes in the candidate answers and write the corrected answer.\n{answer_format}"


@pytest.fixture(scope="module")
def critic_calls() -> list[str]:
    return []


@pytest.fixture(scope="module")
def registry(critic_calls) -> RoleRegistry:
    def parse(text: str):
        critic_calls.append(text)
        return parse_answer(text, "math")

    reg = RoleRegistry.default()
    reg.register("critic", CRITIC, parser=parse)
    return reg


@pytest.fixture(scope="module")
def base(tmp_path_factory, pool, small_task, registry):
    """A finished search over a Python-parser role, left unpaired (route_items 0) for `pair_run` to pair."""
    base = tmp_path_factory.mktemp("pyroles")
    space = tiny_space(pool, roles=("solver", "critic"), registry=registry)
    run(pool, base / "home", small_task, "random", space=space, config=tiny_config(route_items=0), out=base / "run")
    return base


def _paired(base) -> dict[str, int]:
    with ResultsStore(results_path(base / "run")) as store:
        return {split: len(store.paired(PAIRED_SET, split)) for split in (FIT, TEST)}


def _settings(base) -> Settings:
    return Settings(home=base / "home")


def test_pair_run_without_the_python_roles_names_the_role_and_the_keyword(base):
    with pytest.raises(SearchError, match=r"'critic'.*pair_run / add_to_run\(\.\.\., roles=registry\)"):
        asyncio.run(pair_run(base / "run", _settings(base)))


def test_pair_run_with_a_registry_lacking_a_role_of_the_run_names_it(base):
    with pytest.raises(SearchError, match=r"^the roles given lack role\(s\) 'critic' that the run in .* used"):
        asyncio.run(pair_run(base / "run", _settings(base), roles=RoleRegistry.default()))


def test_pair_run_with_the_python_roles_pairs_the_front(base, registry):
    assert _paired(base) == {FIT: 0, TEST: 0}  # route_items 0: the search paired nothing
    asyncio.run(pair_run(base / "run", _settings(base), roles=registry))
    paired = _paired(base)
    assert paired[FIT] >= 1 and paired[TEST] >= 1


def test_add_to_run_scores_a_graph_of_the_python_role_with_its_parser(base, registry, critic_calls):
    critic = (
        Graph("critiqued")
        .node("a", "solver", "sim/llama-3.1-8b")
        .node("c", "critic", "sim/llama-3.1-8b")
        .edge("a", "c")
        .build(roles=registry.names())
    )
    with pytest.raises(SearchError, match="'critic'"):
        asyncio.run(add_to_run(base / "run", [critic], _settings(base)))
    before, calls = _paired(base), len(critic_calls)
    got = asyncio.run(add_to_run(base / "run", [critic], _settings(base), roles=registry))
    assert {split: len(rows) for split, rows in got.items()} == {FIT: 1, TEST: 1}
    assert _paired(base) == {split: n + 1 for split, n in before.items()}
    assert len(critic_calls) > calls  # the graph's critic node ran the registry's own parser


def test_a_search_over_a_replaced_built_in_role_says_as_it_starts_that_the_run_cannot_store_it(pool, small_task,
                                                                                              tmp_path):
    reg = RoleRegistry.default()
    reg.register("solver", "Solve it tersely.\n{answer_format}", replace_existing=True)
    space = tiny_space(pool, registry=reg)
    with pytest.warns(ReplacedBuiltinWarning) as caught:
        run(pool, tmp_path / "home", small_task, "random", space=space, config=tiny_config(iterations=1),
            out=tmp_path / "run")
    lines = [str(w.message) for w in caught if issubclass(w.category, ReplacedBuiltinWarning)]
    assert len(lines) == 1 and "\n" not in lines[0]
    assert lines[0].startswith("role(s) 'solver' replace built-in roles")
    assert "resume_async, pair_run, add_to_run" in lines[0] and "roles=<this RoleRegistry>" in lines[0]


def test_a_search_over_the_built_in_roles_says_nothing_of_them(pool, small_task, tmp_path):
    import warnings

    space = tiny_space(pool, registry=RoleRegistry.default())
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReplacedBuiltinWarning)
        run(pool, tmp_path / "home", small_task, "random", space=space, config=tiny_config(iterations=1),
            out=tmp_path / "run")

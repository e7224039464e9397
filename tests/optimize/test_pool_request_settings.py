"""A run's pool file edited only in its request settings (`timeout_s`, `max_retries`) is accepted on resume,
`eval --add-to` and `route fit`, said in one warning naming them, and the resumed search ends as an uninterrupted
one; any other edit is refused as before, as is any edit of a run recorded before the pool's models were.

Why: a search stopped by request timeouts advises raising `timeout_s` and resuming, but the run store recorded the
pool file by its bytes alone and refused the edited file, while the old one timed out again: the work was lost.

The pool file here holds the sim models of the tiny space (their built-in entries written out, plus request
settings the sim never uses), so the search is the calibrated one and only the store's logic is under test."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import warnings
from pathlib import Path

import pytest
import yaml

from rolegraph.errors import SearchError
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.api import make_optimizer, optimize_async, resume_async
from rolegraph.optimize.input_files import PoolSettingsChangedWarning
from rolegraph.optimize.rebuild import add_to_run
from rolegraph.optimize.route_fit import fit_route
from rolegraph.optimize.rundir import STORE_NAME
from rolegraph.settings import Settings

from .helpers import TINY_MODELS, Interrupted, stopped_after, tiny_config, tiny_space

ITERATIONS = 3
STOP_AFTER = 1  # the interrupted session stops right after this iteration's checkpoint
TASK_ARGS = {"name": "gsm", "size": 80}
SINGLE = Path(__file__).parents[2] / "examples" / "graphs" / "single.yaml"


def write_pool(path: Path, **changes: dict) -> Path:
    """The tiny space's sim models as a pool file, each with `timeout_s: 3, max_retries: 2`, and `changes` (by
    model id: fields to set) on top."""
    builtin = ModelPool.builtin()
    entries = []
    for model_id in TINY_MODELS:
        entry = {k: v for k, v in builtin.get(model_id).model_dump(exclude_none=True).items() if k != "world"}
        entries.append(entry | {"timeout_s": 3, "max_retries": 2} | changes.get(model_id, {}))
    path.write_text(yaml.safe_dump({"models": entries}, sort_keys=False))
    return path


def search(pool_file: Path, home: Path, task, out: Path, *, stop: bool = False):
    """A search of the tiny space on the models `pool_file` defines, recorded with that file; `stop`: interrupted
    right after its checkpoint of iteration STOP_AFTER."""
    pool = ModelPool.load(pool_file)

    async def main():
        hub = ModelHub(pool, Settings(home=home))
        try:
            return await optimize_async(task, tiny_space(pool), make_optimizer("random"), hub=hub,
                                        config=tiny_config(iterations=ITERATIONS, route_items=8), out=out,
                                        task_args=TASK_ARGS, pool_path=str(pool_file))
        finally:
            await hub.aclose()

    if not stop:
        return asyncio.run(main())
    with stopped_after(STOP_AFTER), pytest.raises(Interrupted):
        asyncio.run(main())
    return None


def resume(run_dir: Path, home: Path, task):
    """`resume_async` as the CLI calls it: no hub, so the pool comes from the run's pool file as it is now."""
    return asyncio.run(resume_async(run_dir, Settings(home=home), task=task))


def notes(caught: list[warnings.WarningMessage]) -> set[str]:
    return {str(w.message) for w in caught if issubclass(w.category, PoolSettingsChangedWarning)}


@pytest.fixture
def stopped(tmp_path, small_task):
    """(run directory, its pool file, its home) of a search stopped after its first checkpoint."""
    pool_file = write_pool(tmp_path / "pool.yaml")
    search(pool_file, tmp_path / "home-b", small_task, tmp_path / "run-b", stop=True)
    return tmp_path / "run-b", pool_file, tmp_path / "home-b"


def test_a_timeout_raised_in_the_pool_file_resumes_to_the_uninterrupted_result(stopped, tmp_path, small_task):
    full = search(write_pool(tmp_path / "pool-a.yaml"), tmp_path / "home-a", small_task, tmp_path / "run-a")
    run_dir, pool_file, home = stopped
    write_pool(pool_file, **{TINY_MODELS[0]: {"timeout_s": 4}})  # what the stop's advice says to do
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = resume(run_dir, home, small_task)
    assert notes(caught) == {
        f"pool file {pool_file.resolve()} changed since the run read it, but only in timeout_s of "
        f"'{TINY_MODELS[0]}' (3 -> 4): request settings, which decide how requests are sent, never what a stored "
        "outcome holds; the run goes on with the new values"
    }
    assert again.best_hash == full.best_hash
    assert again.test == full.test
    strip = lambda recs: [r.model_dump() for r in recs]  # noqa: E731
    assert strip(again.trace.records) == strip(full.trace.records)
    assert strip(again.trace.iterations) == strip(full.trace.iterations)
    best_a = (tmp_path / "run-a" / "best_graph.yaml").read_text()  # which names its run's pool file
    assert (run_dir / "best_graph.yaml").read_text() == best_a.replace("pool-a.yaml", "pool.yaml")

    with warnings.catch_warnings(record=True) as caught:  # `eval --add-to` and the router fit read the pool too
        warnings.simplefilter("always")
        added = asyncio.run(add_to_run(run_dir, [SINGLE], Settings(home=home)))
        fitted = fit_route(run_dir)
    assert added["test"] and fitted.router.stages
    assert len(notes(caught)) == 1


def test_every_request_setting_changed_is_named(stopped, small_task):
    run_dir, pool_file, home = stopped
    write_pool(pool_file, **{TINY_MODELS[1]: {"max_retries": 5}, TINY_MODELS[2]: {"timeout_s": 2.5}})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = resume(run_dir, home, small_task)
    assert again.best_hash
    (note,) = notes(caught)
    assert f"max_retries of '{TINY_MODELS[1]}' (2 -> 5), timeout_s of '{TINY_MODELS[2]}' (3 -> 2.5):" in note


def test_a_pool_file_rewritten_in_layout_alone_goes_on_with_a_note(stopped, small_task):
    run_dir, pool_file, home = stopped
    text = pool_file.read_text().replace("timeout_s: 3", "timeout_s: 3.0")  # the same number, written otherwise
    pool_file.write_text("# the same models, commented\n" + text)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resume(run_dir, home, small_task)
    (note,) = notes(caught)
    assert "only in comments or layout" in note


@pytest.mark.parametrize("change", [
    {"price_out": 9.0},  # what the run's dollars and cost objectives count
    {"model": "another-model"},  # the name sent to the server: another model answers
    {"max_concurrency": 1},  # a real run's wall time is laid out on the model's slots: not a request setting
], ids=["price", "model-name", "max-concurrency"])
def test_any_other_change_is_refused_as_before(stopped, small_task, change):
    run_dir, pool_file, home = stopped
    write_pool(pool_file, **{TINY_MODELS[0]: {"timeout_s": 4, **change}})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(SearchError, match=f"its pool file {pool_file.resolve()} changed since the run read it"):
            resume(run_dir, home, small_task)
    assert notes(caught) == set()


def test_a_run_recorded_before_the_models_were_is_refused_as_before(stopped, small_task):
    run_dir, pool_file, home = stopped
    with sqlite3.connect(run_dir / STORE_NAME) as db:  # as an older rolegraph wrote it: path and sha256 alone
        (value,) = db.execute("SELECT value FROM meta WHERE key = 'inputs'").fetchone()
        inputs = json.loads(value)
        assert "models_sha256" in inputs["pool"]  # what this rolegraph records
        inputs["pool"] = {k: inputs["pool"][k] for k in ("path", "sha256")}
        db.execute("UPDATE meta SET value = ? WHERE key = 'inputs'", (json.dumps(inputs),))
    db.close()
    write_pool(pool_file, **{TINY_MODELS[0]: {"timeout_s": 4}})
    with pytest.raises(SearchError, match="changed since the run read it"):
        resume(run_dir, home, small_task)


def test_a_pool_file_that_no_longer_loads_is_refused(stopped, small_task):
    run_dir, pool_file, home = stopped
    pool_file.write_text(pool_file.read_text() + "  - {id: broken\n")
    with pytest.raises(SearchError, match="changed since the run read it"):
        resume(run_dir, home, small_task)

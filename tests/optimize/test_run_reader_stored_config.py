"""A run whose stored config is valid JSON but lacks keys its readers index (`stored_config`): resume, report,
`route fit` and `eval --add-to` say "run.sqlite is damaged: its config is missing <key>" in one line (exit 2),
not a KeyError traceback from deep inside rebuilding or rendering the run."""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize.rundir import RunStore
from rolegraph.optimize.run_reader import REBUILD_KEYS, REPORT_KEYS, stored_config
from tests.cli.support import cli

TINY = ["optimize", "--task", "gsm", "--task-size", "80", "--optimizer", "random", "--iterations", "1", "--samples",
        "2", "--batch", "2", "--validation-items", "2", "--test-items", "2", "--route-items", "4", "--json"]
GRAPH = "name: small\nnodes:\n  - {id: out, role: solver, model: sim/llama-3.2-1b}\nedges: []\n"
TAIL = "; restore the run directory from a copy, or start a new search"


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished search with paired outcomes (what route fit and --add-to need)."""
    from tests.cli.support import cli_in_home

    base = tmp_path_factory.mktemp("finished")
    cli_in_home(base / "home", *TINY, "--out", base / "run")  # asserts it succeeded
    return base / "run"


@pytest.fixture
def damage(finished, tmp_path, monkeypatch):
    """A copy of the finished run with its config changed by `edit` (the config dict, edited in place)."""
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ROLEGRAPH_POOL", raising=False)
    graph = tmp_path / "g.yaml"
    graph.write_text(GRAPH)

    def make(edit) -> Path:
        run_dir = Path(shutil.copytree(finished, tmp_path / "run"))
        db = sqlite3.connect(run_dir / "run.sqlite")
        try:
            with db:
                config = json.loads(db.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()[0])
                edit(config)
                db.execute("UPDATE meta SET value = ? WHERE key = 'config'", (json.dumps(config),))
        finally:
            db.close()
        return run_dir

    make.graph = graph
    return make


def _commands(run_dir: Path, graph: Path) -> dict[str, list]:
    return {
        "resume": ["optimize", "--resume", run_dir],
        "resume with a new cap": ["optimize", "--resume", run_dir, "--max-dollars", "5"],
        "report": ["report", run_dir],
        "route fit": ["route", "fit", run_dir],
        "add-to": ["eval", graph, "--add-to", run_dir],
    }


def _one_line(argv, capsys) -> str:
    code, _, err = cli(argv, capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, (argv, err)
    return err.strip()


def test_an_empty_config_is_one_damaged_line_everywhere(damage, capsys):
    run_dir = damage(lambda c: c.clear())
    missing = {"route fit": "space"}  # a fit reads only the space's family (and the pool) of the config
    for name, argv in _commands(run_dir, damage.graph).items():
        want = f"error: {run_dir}/run.sqlite is damaged: its config is missing {missing.get(name, 'task')}{TAIL}"
        assert _one_line(argv, capsys) == want, name


@pytest.mark.parametrize(
    ("edit", "what"),
    [
        (lambda c: c.pop("space"), "its config is missing space"),
        (lambda c: c["optimizer"].pop("name"), "its config is missing optimizer.name"),
        (lambda c: c.update(space=["not", "an", "object"]), "its config's space is not an object"),
        (lambda c: c["search"].pop("batch"), "its config is missing search.batch"),
    ],
)
def test_each_missing_key_is_named(damage, capsys, edit, what):
    run_dir = damage(edit)
    for name in ("resume", "report", "add-to", "route fit"):
        if name == "route fit" and "space" not in what:
            continue  # a fit does not read those
        argv = _commands(run_dir, damage.graph)[name]
        assert _one_line(argv, capsys) == f"error: {run_dir}/run.sqlite is damaged: {what}{TAIL}", name


def test_task_args_without_a_name_is_refused_where_the_task_is_rebuilt(damage, capsys):
    """Resume and --add-to rebuild the task from task_args; the report and a fit on stored outcomes never do."""
    run_dir = damage(lambda c: c["task_args"].pop("name"))
    commands = _commands(run_dir, damage.graph)
    for name in ("resume", "add-to"):
        want = f"error: {run_dir}/run.sqlite is damaged: its config is missing task_args.name{TAIL}"
        assert _one_line(commands[name], capsys) == want, name
    for name in ("report", "route fit"):
        code, _, err = cli(commands[name], capsys)
        assert code == 0, (name, err)


def test_a_whole_config_passes_and_the_keys_are_what_the_run_stores(finished):
    store = RunStore.open(finished)
    try:
        config = stored_config(store, REBUILD_KEYS, check_inputs=False)
    finally:
        store.close()
    assert set(REPORT_KEYS) < set(REBUILD_KEYS) == set(REPORT_KEYS) | {"task_args"}
    assert config["task_args"]["name"] == "gsm" and config["optimizer"]["name"] == "random"


def test_the_error_is_a_search_error_from_python(damage):
    run_dir = damage(lambda c: c.pop("optimizer"))
    store = RunStore.open(run_dir)
    try:
        with pytest.raises(SearchError, match="its config is missing optimizer;"):
            stored_config(store)
    finally:
        store.close()


UNKNOWN_SAME = (
    "its config has an unknown setting search.future_knob (rolegraph 0.1.0 wrote the run and has no such setting)"
)


def test_an_unknown_search_key_is_one_damaged_line_everywhere(damage, capsys):
    """A `search` setting this rolegraph has no field for went to `SearchConfig(**...)` as a keyword: a TypeError
    traceback in resume and --add-to. Every command that reads the search settings now names it instead."""
    run_dir = damage(lambda c: c["search"].update(future_knob=3))
    for name, argv in _commands(run_dir, damage.graph).items():
        want = f"error: {run_dir}/run.sqlite is damaged: {UNKNOWN_SAME}{TAIL}"
        assert _one_line(argv, capsys) == want, name


def test_an_unknown_search_key_from_another_version_names_that_version(damage, capsys):
    def edit(config):
        config["search"].update(zeta=1, alpha=2)
        config["provenance"]["rolegraph_version"] = "9.4.0\nsecond line"

    run_dir = damage(edit)
    for name in ("resume", "report", "add-to", "route fit"):
        want = (
            f"error: {run_dir}/run.sqlite: its config has an unknown setting search.alpha, search.zeta: the run was written by "
            "rolegraph 9.4.0 second line and this is 0.1.0; open it with that version, or start a new search"
        )
        assert _one_line(_commands(run_dir, damage.graph)[name], capsys) == want, name


def test_an_unknown_search_key_from_python_is_a_search_error(damage, settings):
    from rolegraph.optimize.rebuild import rebuild

    run_dir = damage(lambda c: c["search"].update(future_knob=3))
    with pytest.raises(SearchError, match=r"unknown setting search\.future_knob \(rolegraph 0\.1\.0 wrote"):
        rebuild(run_dir, settings)


def test_an_unknown_optimizer_option_is_one_damaged_line_everywhere(damage, capsys):
    """An option the run's optimizer does not take went to its constructor as a keyword: a TypeError traceback
    (exit 1) in resume, route fit and --add-to, as an unknown `search` setting did."""
    run_dir = damage(lambda c: c["optimizer"].update(newknob=1))
    unknown = "its config has an unknown setting optimizer.newknob (rolegraph 0.1.0 wrote the run and has no such setting)"
    for name, argv in _commands(run_dir, damage.graph).items():
        assert _one_line(argv, capsys) == f"error: {run_dir}/run.sqlite is damaged: {unknown}{TAIL}", name


def test_every_optimizers_own_options_are_known():
    """What each optimizer stores (`config()`) is what it takes again: no stored run of today is refused."""
    from rolegraph.optimize.methods import OPTIMIZERS, make_optimizer
    from rolegraph.optimize.run_reader import optimizer_options

    for name in OPTIMIZERS:
        stored = set(make_optimizer(name).config()) - {"name"}
        takes = optimizer_options(name)
        assert takes is None or stored <= takes, name

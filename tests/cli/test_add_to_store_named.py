"""`eval --add-to RUN` names the store its runs went to (RUN/results.sqlite), and `results ID` for an id it cannot
find says where such runs live. The run ids `--add-to` printed were looked for in $ROLEGRAPH_HOME's store, and
`results` said only `no stored run '...'`."""
from __future__ import annotations

import json

import pytest

from rolegraph.evaluate.store import ResultsStore
from tests.cli.support import cli, cli_in_home
from tests.cli.test_addto_output import NEW_GRAPH, SEARCH


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """The tiny search of `test_addto_output` (module-scoped): (base directory, run directory)."""
    base = tmp_path_factory.mktemp("add-to-store")
    cli_in_home(base / "home", *SEARCH, "--out", base / "run")
    return base, base / "run"


def test_add_to_names_its_store_and_results_finds_the_id_there_with_the_hint(searched, searched_home, capsys):
    base, run = searched
    graph = base / "new.yaml"
    graph.write_text(NEW_GRAPH)
    code, out, err = cli(["eval", graph, "--add-to", run], capsys)
    assert code == 0, err
    store = run / "results.sqlite"
    assert f"stored in {store}: `rolegraph results RUN_ID --store {store}`" in out

    code, out, err = cli(["eval", graph, "--add-to", run, "--json"], capsys)
    assert code == 0, err
    run_id = json.loads(out.splitlines()[0])["run_id"]
    home_store = searched_home / "results.sqlite"
    assert not home_store.exists()  # the premise of the first look: a home whose store `eval` never made
    for _ in ("no home store", "a home store without the id"):
        code, out, err = cli(["results", run_id], capsys)  # $ROLEGRAPH_HOME's store: not there
        assert code == 2 and "Traceback" not in err
        assert f"no stored run '{run_id}'" in err
        hint = "runs added with `eval --add-to RUN` live in that run's results.sqlite (--store RUN/results.sqlite)"
        assert hint in err
        assert len(err.strip().splitlines()) == 1
        ResultsStore(home_store).close()
    code, out, err = cli(["results", run_id, "--store", store], capsys)  # where the hint points: found
    assert code == 0, err
    assert "stored run" in out  # the stored-run table of the id


def test_add_to_json_lines_name_their_store(searched, searched_home, capsys):
    base, run = searched
    graph = base / "new.yaml"
    graph.write_text(NEW_GRAPH)
    code, out, err = cli(["eval", graph, "--add-to", run, "--json"], capsys)
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines and all(o.get("store") == str(run / "results.sqlite") for o in lines)

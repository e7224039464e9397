"""`route fit` and `eval --add-to` on a run its dollar cap stopped: their "continue it with" hint includes
`--max-dollars HIGHER` (the CLI's own stop line says so), not the plain `--resume` that stops again at once."""

from __future__ import annotations

import pytest

from rolegraph.optimize.rundir import RunStore
from tests.cli.support import cli
from tests.run_dir_support import CAPPED_SEARCH, forget_cap_stop

GRAPH = "name: small\nnodes:\n  - {id: out, role: solver, model: sim/llama-3.2-1b}\nedges: []\n"


@pytest.fixture
def capped(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ROLEGRAPH_POOL", raising=False)
    run_dir = tmp_path / "run"
    code, _, err = cli([*CAPPED_SEARCH, "--out", run_dir], capsys)
    assert code == 2 and "dollar cap reached" in err, err
    return run_dir


def _record_stop(run_dir) -> None:
    RunStore.record_cap_stop(run_dir, "dollar cap reached during the search step")  # what its command records


def test_route_fit_and_eval_add_to_name_the_higher_cap(capped, tmp_path, capsys):
    """`optimize` itself recorded the stop (nothing here records it)."""
    graph = tmp_path / "g.yaml"
    graph.write_text(GRAPH)
    hint = f"continue it with `rolegraph optimize --resume {capped} --max-dollars HIGHER`"
    for argv in (["route", "fit", capped], ["eval", graph, "--add-to", capped]):
        code, _, err = cli(argv, capsys)
        assert code == 2 and err.count("\n") == 1 and err.rstrip().endswith(hint), (argv, err)


def test_without_the_stop_record_the_hint_is_the_plain_one(capped, capsys):
    forget_cap_stop(capped)  # a store from before the stop was recorded
    code, _, err = cli(["route", "fit", capped], capsys)
    assert code == 2 and err.rstrip().endswith(f"continue it with `rolegraph optimize --resume {capped}`"), err


def test_an_interrupt_after_a_cap_stop_names_the_higher_cap(capped):
    """Ctrl-C or SIGTERM of a resume that had not got past the cap's stop: its line resumes with the higher cap."""
    from rolegraph.cli.interrupt import search_interrupted

    forget_cap_stop(capped)
    assert str(search_interrupted(capped)).endswith(f"continue with: rolegraph optimize --resume {capped}")
    _record_stop(capped)
    assert str(search_interrupted(capped)).endswith(
        f"continue with: rolegraph optimize --resume {capped} --max-dollars HIGHER"
    )

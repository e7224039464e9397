"""`python -m benchmarks search_efficiency --seeds A-B`: other seeds than the tuned 0-9, written beside the
default results rather than over them."""
from __future__ import annotations

import json

import pytest

from benchmarks import search_efficiency


def test_other_seeds_are_searched_and_written_to_their_own_files(tmp_path):
    payload = search_efficiency.run(quick=True, out_dir=tmp_path, seeds=(3,))
    assert payload["seed_list"] == [3]
    assert not (tmp_path / "search_efficiency-quick.json").exists()
    written = json.loads((tmp_path / "search_efficiency-seeds3-3-quick.json").read_text())
    assert written["command"] == "python -m benchmarks search_efficiency --quick --seeds 3-3"
    runs = written["budgets"]["18.0"]["runs"]
    assert {len(r) for r in runs.values()} == {1} and {r[0]["seed"] for r in runs.values()} == {3}
    assert "Seeds 3-3 (1)" in (tmp_path / "search_efficiency-seeds3-3-quick.md").read_text()


def _seeds_given(monkeypatch, argv: list[str]) -> dict:
    """The keywords `python -m benchmarks search_efficiency ARGV` hands `run` (run itself replaced)."""
    from benchmarks.__main__ import main

    got: dict = {}
    monkeypatch.setattr(search_efficiency, "run", lambda **kw: got.update(kw))
    assert main(["search_efficiency", *argv]) == 0
    return got


def test_the_seeds_option_parses_ranges_and_refuses_nonsense(monkeypatch, capsys):
    assert _seeds_given(monkeypatch, ["--seeds", "10-12"])["seeds"] == (10, 11, 12)
    assert "seeds" not in _seeds_given(monkeypatch, [])
    from benchmarks.__main__ import main

    with pytest.raises(SystemExit) as exc:
        main(["search_efficiency", "--seeds", "9-2"])
    assert exc.value.code == 2


def test_a_bad_seed_range_is_named_as_seeds(capsys):
    from benchmarks.__main__ import main

    with pytest.raises(SystemExit):
        main(["search_efficiency", "--seeds", "x"])
    assert "seeds: 'x' is not N or A-B" in capsys.readouterr().err

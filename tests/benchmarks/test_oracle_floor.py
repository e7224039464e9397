"""The oracle reference's arithmetic: the expected median over seeds of a search that stays or never does."""
from __future__ import annotations

import pytest

from benchmarks.oracle_floor import expected_median_stay, judge


def test_expected_median_of_four_searches_by_hand():
    # 4 seeds, each staying at 300 with chance 1/2, else counted as the cap 3000: 3 or 4 stay (5/16) -> 300;
    # exactly 2 (6/16) -> the mean of 300 and 3000; 0 or 1 (5/16) -> 3000
    assert expected_median_stay(0.5, 300, 3000, 4) == pytest.approx(5 / 16 * 300 + 6 / 16 * 1650 + 5 / 16 * 3000)
    assert expected_median_stay(1.0, 300, 3000, 4) == pytest.approx(300)
    assert expected_median_stay(0.0, 300, 3000, 4) == pytest.approx(3000)


def test_the_oracle_takes_its_best_split_and_is_compared_with_the_best_baseline():
    row = {"chance": {100: 0.25, 500: 0.95, 1000: 1.0}}
    base = {"best_baseline": {"stay": "tpe"}, "median": {"tpe": {"stay": 2000.0}, "agent-reinforce": {"stay": 2500.0}},
            "ratio": {"agent-reinforce": {"stay": 1.25}}}
    out = judge(row, base, top=3, cap=3000, seeds=4)
    # 1500 runs staying 95% of the time beats 300 runs staying 25% and 3000 runs staying always
    assert out["best_split"] == 500
    assert out["oracle_median_stay"] == pytest.approx(expected_median_stay(0.95, 1500, 3000, 4))
    assert out["oracle_ratio"] == pytest.approx(out["oracle_median_stay"] / 2000.0) and out["agent_ratio"] == 1.25


@pytest.mark.parametrize("argv, said", [(["--baselines-from", "no/such/file.json"], "no such file"),
                                        (["--top", "0"], "--top"), (["--items", "0"], "--items"),
                                        (["--top", "-2"], "--top")])
def test_a_missing_baselines_file_or_a_non_positive_count_is_one_line_and_exit_2(argv, said, capsys, tmp_path):
    from benchmarks.__main__ import main

    with pytest.raises(SystemExit) as exc:
        main(["oracle_floor", "--quick", "--out", str(tmp_path), *argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and said in err[0]
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("kwargs", [{"top": 0}, {"items": 0}, {"baselines_from": "no/such/file.json"}])
def test_run_refuses_them_too_instead_of_using_the_defaults(kwargs, tmp_path):
    from benchmarks.common import UsageError
    from benchmarks.oracle_floor import run

    with pytest.raises(UsageError):
        run(quick=True, out_dir=tmp_path, **kwargs)


def _generalization_file(path, world=0, family="math", budget=18.0):
    import json

    judged = {"best_baseline": {"stay": "tpe"}, "median": {"tpe": {"stay": 400.0}}, "ratio": {}}
    path.write_text(json.dumps({"config": {"seeds": 4, "max_evaluations": 3000},
                                "settings": [{"world": world, "family": family, "budget": budget, "judged": judged}]}))
    return path


def test_the_baselines_read_are_the_named_file_else_generalization_json_beside_the_results(tmp_path):
    from benchmarks.oracle_floor import _baselines, _baselines_note

    named = _generalization_file(tmp_path / "mine.json", world=7)
    source, base = _baselines(named, tmp_path)
    assert source == named and set(base) == {(7, "math", 18.0)} and base[(7, "math", 18.0)]["seeds"] == 4
    assert _baselines(None, tmp_path) == (None, {})  # nothing beside the results: none, and said so
    assert "none read" in _baselines_note(None, 0, 3, quick=False)
    assert "--baselines-from" in _baselines_note(None, 0, 3, quick=True)  # why a quick run read none
    _generalization_file(tmp_path / "generalization.json")
    source, base = _baselines(None, tmp_path)
    assert source == tmp_path / "generalization.json" and set(base) == {(0, "math", 18.0)}
    assert "covering 1 of these 3" in _baselines_note(source, 1, 3, quick=False)


def test_a_quick_run_honours_a_named_baselines_file(tmp_path):
    """The quick scope is world 0 math 18: a file covering it is compared, and the output names it."""
    import json

    from benchmarks.oracle_floor import run

    named = _generalization_file(tmp_path / "base.json")
    out = tmp_path / "out"
    payload = run(quick=True, out_dir=out, baselines_from=named)
    assert payload["summary"]["compared"] == 1 and payload["summary"]["baselines_from"] == str(named)
    assert "base.json" in (out / "oracle_floor-quick.md").read_text()
    assert json.loads((out / "oracle_floor-quick.json").read_text())["settings"][0]["judged"]["baseline"] == "tpe"


def test_a_misspelt_keyword_is_refused_not_ignored(tmp_path):
    """`run(item=100)` (for `items`) was swallowed by a catch-all `**_` and ran the default items."""
    from benchmarks.oracle_floor import run

    with pytest.raises(TypeError, match="item"):
        run(quick=True, out_dir=tmp_path, item=100)
    assert not list(tmp_path.iterdir())

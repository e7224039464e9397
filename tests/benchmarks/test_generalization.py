"""The generalization benchmark's arithmetic (censoring, the best baseline, ratios, median and worst) and its
command line (a quick run ends with one JSON line)."""
from __future__ import annotations

import json
import math

import pytest
import typer

from benchmarks.generalization import choice_confidence, judge, overall, parse_worlds

CAP = 1000


def _runs(first: list[float], stay: list[float], gap: float = 0.0) -> list[dict]:
    return [{"first": f, "stay": s, "final_gap": gap} for f, s in zip(first, stay)]


def _setting(agent, random, reinforce, tpe) -> dict:
    return {"runs": {"agent-reinforce": _runs(*agent), "random": _runs(*random), "reinforce": _runs(*reinforce),
                     "tpe": _runs(*tpe), "cem": _runs(*random)}}


def test_a_search_that_never_reaches_counts_as_the_whole_budget():
    j = judge(_setting(([100, math.inf, math.inf], [200, math.inf, math.inf]),
                       ([400, 400, 400], [800, 800, 800]), ([300, 500, 900], [600, 900, 900]),
                       ([math.inf] * 3, [math.inf] * 3)), CAP)
    assert j["median"]["agent-reinforce"] == {"first": CAP, "stay": CAP}  # two of three never: the cap
    assert j["misses"]["agent-reinforce"] == {"first": 2, "stay": 2}
    assert j["median"]["tpe"]["first"] == CAP
    assert j["best_baseline"] == {"first": "random", "stay": "random"}  # reinforce's median 500 > 400
    assert j["ratio"]["agent-reinforce"]["first"] == pytest.approx(CAP / 400)
    assert j["ratio"]["cem"]["stay"] == pytest.approx(1.0)  # an ablation is judged, never a baseline


def test_the_best_baseline_is_chosen_per_measure():
    j = judge(_setting(([50], [500]), ([100], [900]), ([200], [300]), ([150], [700])), CAP)
    assert j["best_baseline"] == {"first": "random", "stay": "reinforce"}
    assert j["ratio"]["agent-reinforce"] == {"first": pytest.approx(0.5), "stay": pytest.approx(500 / 300)}


def test_median_and_worst_over_settings():
    js = [judge(_setting(([a], [a]), ([b], [b]), ([b], [b]), ([b], [b])), CAP) for a, b in
          [(100, 400), (200, 400), (300, 200)]]
    o = overall(js)
    assert o["settings"] == 3
    assert o["median_first_reach_ratio"] == pytest.approx(0.5) and o["worst_first_reach_ratio"] == pytest.approx(1.5)
    assert o["median_stay_ratio"] == pytest.approx(0.5) and o["worst_stay_ratio"] == pytest.approx(1.5)


def test_choice_confidence_sets_the_p_best_given_against_how_often_the_choice_was_the_best_candidate():
    def run(p, best):
        return {"p_best": p, "best_of_candidates": best}

    first = {"agent-reinforce": [run(0.9, True), run(0.5, False)], "random": [run(0.4, True), run(None, False)]}
    second = {"agent-reinforce": [run(0.7, True)]}
    got = choice_confidence([{"runs": first}, {"runs": second}], ("agent-reinforce", "random", "tpe"))
    assert got["agent-reinforce"] == {"searches": 3, "mean_p_best": pytest.approx(0.7),
                                      "best_of_candidates": pytest.approx(0.667, abs=1e-3)}
    # a run without a P(best) (an older record) is left out
    assert got["random"] == {"searches": 1, "mean_p_best": 0.4, "best_of_candidates": 1.0}
    assert "tpe" not in got


@pytest.mark.parametrize("text, worlds", [("100-103", (100, 101, 102, 103)), ("3,7,5-6", (3, 7, 5, 6)),
                                          ("4, 4,2", (4, 2))])
def test_world_ranges(text, worlds):
    assert parse_worlds(text) == worlds


@pytest.mark.parametrize("text", ["", "a-b", "5-3", "-2"])
def test_bad_world_ranges_are_refused(text):
    with pytest.raises(typer.BadParameter):
        parse_worlds(text)


def test_the_json_line_gives_the_summary_over_held_out_and_over_tuned_settings_apart():
    """The summary mixes tuned and held-out settings; `held_out` and `tuned` give the same figures over each."""
    from benchmarks.generalization import TUNED_WORLDS, json_line

    held_world, tuned_world = max(TUNED_WORLDS) + 700, min(TUNED_WORLDS)
    cases = [(held_world, 100, 400), (tuned_world, 200, 400), (held_world, 300, 200)]
    settings = [{"world": w} for w, _, _ in cases]
    judged = [judge(_setting(([a], [a]), ([b], [b]), ([b], [b]), ([b], [b])), CAP) for _, a, b in cases]
    line = json_line(settings, judged, (held_world, tuned_world), "abc")
    assert line["settings"] == 3 and line["median_first_reach_ratio"] == pytest.approx(0.5)  # every setting
    assert line["held_out"]["settings"] == 2 and line["tuned"]["settings"] == 1
    assert line["held_out"]["median_first_reach_ratio"] == pytest.approx((0.25 + 1.5) / 2)
    assert line["held_out"]["worst_stay_ratio"] == pytest.approx(1.5)
    assert line["tuned"]["median_stay_ratio"] == pytest.approx(0.5) and line["tuned"]["worst_stay_ratio"] == 0.5
    assert line["simulated"] is True and line["worlds"] == [held_world, tuned_world] and line["commit"] == "abc"
    only_held = json_line(settings[:1], judged[:1], (held_world,), "abc")
    assert only_held["tuned"] is None and only_held["held_out"]["settings"] == 1


def test_the_command_line_ends_with_one_json_line(tmp_path, capsys):
    from benchmarks.__main__ import main

    assert main(["generalization", "--quick", "--json", "--out", str(tmp_path), "--families", "math",
                 "--optimizers", "agent-reinforce,random,reinforce,tpe"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    summary = json.loads(last)
    assert {"median_first_reach_ratio", "worst_first_reach_ratio", "median_stay_ratio", "worst_stay_ratio",
            "settings"} <= set(summary)
    assert summary["settings"] == 1
    assert summary["simulated"] is True and summary["worlds"] == [0]
    # other families and optimizers than the quick scope's are in the name: it never overwrites the default's files
    written = json.loads((tmp_path / "generalization-fmath-ablations-none-quick.json").read_text())
    assert not (tmp_path / "generalization-quick.json").exists()
    assert "--families math" in written["command"] and written["simulated"] is True
    assert summary["commit"] == written["machine"]["commit"]  # read when the run started
    assert written["machine"]["git_read"] == "start of run"
    assert {k: summary[k] for k in written["summary"]} == written["summary"]
    assert summary["tuned"] == written["summary"] and summary["held_out"] is None  # world 0 is a tuned world
    sure = written["choice_confidence"]["agent-reinforce"]
    assert sure["searches"] == 1 and 0.0 <= sure["mean_p_best"] <= 1.0


def test_unknown_family_is_a_usage_error(capsys):
    from benchmarks.__main__ import main

    with pytest.raises(SystemExit) as exc:
        main(["generalization", "--families", "math,poetry"])
    assert exc.value.code == 2 and "poetry" in capsys.readouterr().err


def test_each_method_against_the_best_of_the_other_three():
    from benchmarks.generalization import against_the_rest

    # agent 100/500, random 400/400, reinforce 200/800, tpe 300/250 (first / stay); cem is not among them
    j = judge(_setting(([100], [500]), ([400], [400]), ([200], [800]), ([300], [250])), CAP)
    rest = against_the_rest([j])
    assert set(rest) == {"agent-reinforce", "random", "reinforce", "tpe"}
    assert rest["agent-reinforce"]["median_first_reach_ratio"] == pytest.approx(100 / 200)
    assert rest["agent-reinforce"]["median_stay_ratio"] == pytest.approx(500 / 250)
    assert rest["reinforce"]["median_first_reach_ratio"] == pytest.approx(200 / 100)  # the agent is among the rest
    assert rest["tpe"]["worst_stay_ratio"] == pytest.approx(250 / 400)
    # four methods that take turns being best (ratios 0.5, 2, 3, 4 each): every median is 2.5, not 1
    same = [judge(_setting(([a], [a]), ([b], [b]), ([c], [c]), ([d], [d])), CAP)
            for a, b, c, d in [(100, 200, 300, 400), (400, 100, 200, 300), (300, 400, 100, 200), (200, 300, 400, 100)]]
    assert all(r["median_first_reach_ratio"] == pytest.approx(2.5) for r in against_the_rest(same).values())


QUICK_SCOPE = {"worlds": (0,), "families": ("math", "mmlu"), "budgets": (18.0,)}
FULL_SCOPE = {"worlds": tuple(range(100, 106)), "families": ("math", "mmlu", "code"), "budgets": (18.0, 30.0, 42.0)}
ALL = ("math", "mmlu", "code")


@pytest.mark.parametrize("worlds, families, budgets, stem", [
    ((2000, 2001, 2002, 2003), ALL, (18.0, 30.0), "generalization-w2000-2003"),  # BENCHMARKS.md's commands
    ((2000, 2001, 2002, 2003), ALL, (42.0,), "generalization-w2000-2003-b42"),
    ((2000, 2001, 2002, 2003), ALL, (18.0, 30.0, 42.0), "generalization-w2000-2003-b18_30_42"),
    ((0, 5, 9), ALL, (18.0, 30.0), "generalization-w0_5_9"),  # not a range: not named as one
    ((700, 701, 702, 703), ALL, (18.0, 30.0), "generalization-w700-703"),  # never the stored run H's name
    (tuple(range(100, 106)), ALL, (18.0, 30.0, 42.0), None),  # the defaults keep generalization.*
    (tuple(range(100, 106)), ALL, (18.0, 30.0), "generalization-b18_30"),
    (tuple(range(100, 106)), ("math",), (18.0, 30.0, 42.0), "generalization-fmath"),
])
def test_the_result_files_are_named_by_their_worlds_and_budgets(worlds, families, budgets, stem):
    from benchmarks.generalization import result_stem

    assert result_stem(worlds, families, budgets, FULL_SCOPE) == stem


BASE = ("agent-reinforce", "random", "reinforce", "tpe")
EVERY = ("agent-reinforce", "random", "reinforce", "tpe", "agent-reinforce:pilot-only", "agent-reinforce:no-identify",
         "cem", "agent-reinforce:gp", "agent-reinforce:v1")


@pytest.mark.parametrize("seeds, optimizers, stem", [
    (8, None, "generalization-w2000-2003-s8"),
    (None, BASE, "generalization-w2000-2003-ablations-none"),  # BENCHMARKS.md's `--optimizers` commands
    (8, (*BASE, "agent-reinforce:no-identify"), "generalization-w2000-2003-s8-ablations-no-identify"),
    (None, ("cem", *BASE, "agent-reinforce:pilot-only"), "generalization-w2000-2003-ablations-pilot-only_cem"),
    (None, EVERY, "generalization-w2000-2003"),  # every optimizer is the default
    (None, tuple(reversed(EVERY)), "generalization-w2000-2003"),  # in any order
])
def test_the_result_files_are_named_by_their_seeds_and_optimizers(seeds, optimizers, stem):
    from benchmarks.generalization import result_stem

    assert result_stem((2000, 2001, 2002, 2003), ALL, (18.0, 30.0), FULL_SCOPE, seeds, optimizers) == stem


def _stem_of_run(monkeypatch, **options) -> str | None:
    """The file stem `run` writes with `options` (no search runs: the settings list is empty)."""
    from benchmarks import generalization
    from benchmarks.common import BenchRun

    written: dict = {}

    class Capture(BenchRun):
        def write_result(self, *args, **kwargs):
            written.update(kwargs)

    monkeypatch.setattr(generalization, "in_processes", lambda *args, **kwargs: [])
    generalization.run(worlds=(2000, 2001, 2002, 2003), budgets=(18.0, 30.0), bench_run=Capture(), **options)
    return written["file_stem"]


def test_two_runs_with_other_seeds_or_optimizers_write_different_files(monkeypatch):
    stems = [_stem_of_run(monkeypatch, seeds=s, optimizers=o) for s, o in [(2, None), (3, None), (2, BASE)]]
    assert stems == ["generalization-w2000-2003-s2", "generalization-w2000-2003-s3",
                     "generalization-w2000-2003-s2-ablations-none"]
    assert _stem_of_run(monkeypatch, seeds=4) == "generalization-w2000-2003"  # 4 is the default: not named


def test_the_quick_scope_keeps_the_plain_name():
    from benchmarks.generalization import result_stem

    assert result_stem((0,), ("math", "mmlu"), (18.0,), QUICK_SCOPE) is None


@pytest.mark.parametrize("argv, said", [
    (["--optimizers", "random,tpe"], "--optimizers must include"),
    (["--seeds", "0"], "--seeds"), (["--seeds", "-3"], "--seeds"), (["--jobs", "0"], "--jobs"),
    (["--jobs", "-1"], "--jobs"), (["--budgets", "x"], "float"), (["--budgets", "18,0"], "positive"),
    (["--budgets", "-3"], "--budgets"),
])
def test_a_wrong_option_is_one_line_and_exit_2(argv, said, capsys, tmp_path):
    from benchmarks.__main__ import main

    with pytest.raises(SystemExit) as exc:
        main(["generalization", "--quick", "--out", str(tmp_path), *argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and said in err[0]
    assert not list(tmp_path.iterdir())  # refused before any search


@pytest.mark.parametrize("kwargs", [{"seeds": 0}, {"seeds": -3}, {"jobs": 0}])
def test_run_refuses_non_positive_counts_instead_of_raising_them_to_1(kwargs, tmp_path):
    from benchmarks.common import UsageError
    from benchmarks.generalization import run

    with pytest.raises(UsageError):
        run(quick=True, out_dir=tmp_path, **kwargs)



def test_a_misspelt_keyword_is_refused_not_ignored(tmp_path):
    """`run(seed=3)` (for `seeds`) was swallowed by a catch-all `**_` and ran the default seeds."""
    from benchmarks.generalization import run

    with pytest.raises(TypeError, match="seed"):
        run(quick=True, out_dir=tmp_path, seed=3)
    assert not list(tmp_path.iterdir())

"""`python -m benchmarks`: the command lines BENCHMARKS.md and README.md show hand each benchmark's `run` the
keywords they did under argparse (recorded before the move to typer), and a usage mistake is one line and exit 2."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from benchmarks import __main__ as entry
from benchmarks import common

SHOWN = [  # (the command line after `python -m benchmarks`, the run called, the keywords it gets but bench_run)
    ("--quick calibration", "calibration", {"quick": True, "out_dir": None}),
    ("calibration --quick", "calibration", {"quick": True, "out_dir": None}),
    ("overhead", "overhead", {"quick": False, "out_dir": None}),
    (
        "search_efficiency --seeds 10-39",
        "search_efficiency",
        {"quick": False, "out_dir": None, "seeds": tuple(range(10, 40))},
    ),
    ("routing --worlds 0,1,2,3,4", "routing", {"quick": False, "out_dir": None, "worlds": (0, 1, 2, 3, 4)}),
    (
        "generalization --worlds 2000-2003 --families math,mmlu,code --budgets 18,30 --seeds 4 --json",
        "generalization",
        {
            "quick": False,
            "out_dir": None,
            "worlds": (2000, 2001, 2002, 2003),
            "families": ("math", "mmlu", "code"),
            "budgets": (18.0, 30.0),
            "seeds": 4,
            "as_json": True,
        },
    ),
    (
        "generalization --worlds 0,5,9",
        "generalization",
        {"quick": False, "out_dir": None, "worlds": (0, 5, 9), "as_json": False},
    ),
    (
        "generalization --worlds 4-6 --families math,mmlu,code --budgets 18,30 --seeds 8 --optimizers "
        "agent-reinforce,agent-reinforce:no-identify,random,reinforce,tpe --jobs 2",
        "generalization",
        {
            "quick": False,
            "out_dir": None,
            "worlds": (4, 5, 6),
            "families": ("math", "mmlu", "code"),
            "budgets": (18.0, 30.0),
            "seeds": 8,
            "jobs": 2,
            "as_json": False,
            "optimizers": ("agent-reinforce", "agent-reinforce:no-identify", "random", "reinforce", "tpe"),
        },
    ),
    ("agreement_sim", "agreement_sim", {"quick": False, "out_dir": None}),
    (
        "agreement_real --arith 3 --capitals 2",
        "agreement_real",
        {"quick": False, "out_dir": None, "arith": 3, "capitals": 2},
    ),
    ("--out OUT overhead", "overhead", {"quick": False, "out_dir": "OUT"}),
    ("overhead --out OUT", "overhead", {"quick": False, "out_dir": "OUT"}),
    (
        "--quick --out OUT generalization --worlds 1-2",
        "generalization",
        {"quick": True, "out_dir": "OUT", "worlds": (1, 2), "as_json": False},
    ),
]


@pytest.fixture
def calls(monkeypatch, tmp_path):
    """Every benchmark's `run` replaced by a recorder; `start_run` reads no git."""
    seen: list[tuple[str, dict]] = []
    for name in (*entry.NAMES, *entry.REAL, *entry.DATA):
        module = importlib.import_module(f"benchmarks.{name}")

        def record(_name=name, **keywords):
            assert isinstance(keywords.pop("bench_run"), common.BenchRun)
            seen.append((_name, keywords))

        monkeypatch.setattr(module, "run", record)
    monkeypatch.setattr(entry, "start_run", common.BenchRun)
    return seen


def _argv(line: str, tmp_path: Path) -> list[str]:
    return [str(tmp_path) if word == "OUT" else word for word in line.split()]


def _expected(keywords: dict, tmp_path: Path) -> dict:
    return {k: (tmp_path if v == "OUT" else v) for k, v in keywords.items()}


@pytest.mark.parametrize("line, name, keywords", SHOWN)
def test_a_documented_command_reaches_run_with_the_same_keywords(line, name, keywords, calls, tmp_path):
    assert entry.main(_argv(line, tmp_path)) == 0
    assert calls == [(name, _expected(keywords, tmp_path))]


def test_the_gsm8k_check_command_reads_its_data_worlds_and_route_items(calls, tmp_path):
    data = tmp_path / "gsm8k.jsonl"
    data.write_text('{"question": "1 + 1?", "answer": "#### 2"}\n')
    assert entry.main(["gsm8k_check", "--data", str(data), "--worlds", "0-23", "--route-items", "864"]) == 0
    assert calls == [
        ("gsm8k_check", {"quick": False, "out_dir": None, "data": data, "worlds": tuple(range(24)), "route_items": 864})
    ]


def test_the_oracle_floor_command_reads_its_baselines_file(calls, tmp_path):
    baselines = tmp_path / "generalization_tuned.json"
    baselines.write_text("{}")
    assert entry.main(["oracle_floor", "--worlds", "4,5,6", "--baselines-from", str(baselines)]) == 0
    assert calls == [
        ("oracle_floor", {"quick": False, "out_dir": None, "worlds": (4, 5, 6), "baselines_from": baselines})
    ]


@pytest.mark.parametrize("line", ["all --quick --out OUT", "--quick --out OUT all"])
def test_all_runs_every_simulated_benchmark_in_order(line, calls, tmp_path):
    assert entry.main(_argv(line, tmp_path)) == 0
    assert [name for name, _ in calls] == [
        "overhead",
        "parallelism",
        "throughput",
        "search_efficiency",
        "calibration",
        "scaling",
        "estimates",
        "routing",
        "worlds",
        "agreement_sim",
        "generalization",
        "oracle_floor",
    ]
    assert all(keywords == {"quick": True, "out_dir": tmp_path} for _, keywords in calls)


@pytest.mark.parametrize(
    "argv, said",
    [
        (["no-such-benchmark"], "no-such-benchmark"),
        ([], "Missing command"),
        (["generalization", "--worlds", "x"], "'x' is not N or A-B"),
        (["generalization", "--families", "math,poetry"], "poetry"),
        (["gsm8k_check"], "--data"),
        (["gsm8k_check", "--data", "/no/such/file.jsonl"], "no such file"),
        (["routing", "--real-items", "-1"], "at least 0"),
        (["overhead", "--bogus"], "--bogus"),
        (["oracle_floor", "--top", "0"], "at least 1"),
    ],
)
def test_a_usage_mistake_is_one_line_and_exit_2(argv, said, calls, capsys):
    with pytest.raises(SystemExit) as exc:
        entry.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and said in err[0] and err[0].startswith("python -m benchmarks")
    assert calls == []  # refused before any benchmark ran


def test_a_usage_error_a_run_raises_is_one_line_and_exit_2(monkeypatch, capsys):
    from benchmarks import agreement_sim

    def refuse(**_):
        raise common.UsageError("--world 7 is not one this run can use")

    monkeypatch.setattr(agreement_sim, "run", refuse)
    monkeypatch.setattr(entry, "start_run", common.BenchRun)
    with pytest.raises(SystemExit) as exc:
        entry.main(["agreement_sim", "--world", "7"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "python -m benchmarks agreement_sim: error: --world 7 is not one this run can use (--help lists the options)"
    ]


def test_the_help_lists_every_benchmark_and_each_benchmarks_help_its_options(capsys):
    with pytest.raises(SystemExit) as exc:
        entry.main(["--help"])
    assert exc.value.code == 0
    shown = capsys.readouterr().out
    assert all(name in shown for name in ("overhead", "generalization", "agreement_real", "gsm8k_check", "all"))
    with pytest.raises(SystemExit) as exc:
        entry.main(["gsm8k_check", "-h"])
    assert exc.value.code == 0
    shown = capsys.readouterr().out
    assert "--route-items" in shown and "The GSM8K test file" in shown and "--quick" in shown


@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_an_out_that_cannot_be_written_is_one_line_and_exit_2_before_anything_runs(where, calls, tmp_path, capsys):
    # it was a traceback from the first write, after the whole benchmark had run (minutes to an hour lost)
    blocker = tmp_path / "results.txt"
    blocker.write_text("not a directory")
    out = blocker if where == "a file" else blocker / "results"
    with pytest.raises(SystemExit) as exc:
        entry.main(["overhead", "--out", str(out)])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"python -m benchmarks overhead: error: --out {out}: cannot write")
    assert calls == []


def _stopped_at(monkeypatch, name: str) -> None:
    """`name`'s run stands for a benchmark the user stops with Ctrl-C."""

    def stop(**_):
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib.import_module(f"benchmarks.{name}"), "run", stop)


CTRL_C_EXIT_CODE = 130  # 128 + SIGINT, as the shell and `rolegraph` say Ctrl-C


def _main_stopped(argv: list[str]) -> int:
    """`main` on a run stopped by Ctrl-C; the interrupt escaping it (a traceback) fails the test, not the session."""
    try:
        return entry.main(argv)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped main as a traceback")


def test_ctrl_c_is_one_line_saying_what_was_written_and_exit_130(calls, monkeypatch, tmp_path, capsys):
    _stopped_at(monkeypatch, "throughput")
    assert _main_stopped(["all", "--quick", "--out", str(tmp_path)]) == CTRL_C_EXIT_CODE
    assert [name for name, _ in calls] == ["overhead", "parallelism"]
    assert capsys.readouterr().err.strip().splitlines() == [
        "python -m benchmarks all: interrupted: throughput wrote no result "
        "(finished and written: overhead, parallelism)"
    ]


def test_ctrl_c_names_the_truth_tables_saved_which_the_same_command_reuses(calls, monkeypatch, tmp_path, capsys):
    from benchmarks import generalization
    from benchmarks.truth import CACHE_SUBDIR

    def save_then_stop(out_dir, **_):
        (out_dir / CACHE_SUBDIR).mkdir()
        (out_dir / CACHE_SUBDIR / "truth-w7-math-0123.json").write_text("[]")
        raise KeyboardInterrupt

    monkeypatch.setattr(generalization, "run", save_then_stop)
    argv = ["generalization", "--worlds", "7", "--out", str(tmp_path)]
    assert _main_stopped(argv) == CTRL_C_EXIT_CODE
    assert capsys.readouterr().err.strip().splitlines() == [
        "python -m benchmarks generalization: interrupted: no result written; 1 truth table(s) saved in "
        f"{tmp_path / CACHE_SUBDIR}, which the same command reuses"
    ]


@pytest.mark.parametrize("name", ["real_local", "agreement_real", "gsm8k_check"])
def test_the_real_model_and_data_benchmarks_quick_help_does_not_promise_the_smoke_test(name, capsys):
    # their --quick said "the smoke test runs these"; it never does (real_local --quick took 25 minutes here)
    with pytest.raises(SystemExit):
        entry.main([name, "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "--quick" in shown and "the smoke test runs these" not in shown

"""The benchmarks' command-line pieces (`benchmarks.options`): a parser's mistake, a missing or unknown option, is
one line on stderr and exit code 2 for every benchmark entry point, `--help` is not an error, and an error that is
not the user's is never turned into a usage line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import pytest
import typer

from benchmarks.options import csv_list, nonnegative_int, parse_numbers, positive_int, run_function

ROOT = Path(__file__).resolve().parents[2]


def _count(n: Annotated[int, typer.Option(parser=positive_int, help="How many.")] = 3) -> int:
    if n == 13:
        raise RuntimeError("not a usage mistake")
    return n * 2


def test_a_command_returns_what_its_function_returns():
    assert run_function(_count, "prog", ["--n", "4"]) == 8
    assert run_function(_count, "prog", []) == 6


@pytest.mark.parametrize(
    "argv, said",
    [
        (["--n", "0"], "0 is not allowed (at least 1)"),
        (["--n", "x"], "'x' is not a whole number"),
        (["--m", "1"], "No such option: --m"),
    ],
)
def test_a_usage_mistake_is_one_line_naming_the_program_and_exit_2(argv, said, capsys):
    with pytest.raises(SystemExit) as exc:
        run_function(_count, "python -m prog", argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("python -m prog: error: ") and said in err[0]


def test_help_is_shown_and_is_not_an_error(capsys):
    assert run_function(_count, "prog", ["-h"], about="Counts.") == 0
    shown = capsys.readouterr().out
    assert "Counts." in shown and "How many." in shown


def test_an_error_that_is_not_a_usage_mistake_is_raised_as_it_is():
    with pytest.raises(RuntimeError, match="not a usage mistake"):
        run_function(_count, "prog", ["--n", "13"])


@pytest.mark.parametrize(
    "parse, text",
    [
        (positive_int, "0"),
        (nonnegative_int, "-1"),
        (positive_int, "1.5"),
        (parse_numbers, "3-1"),
        (csv_list(float), "18,nan"),
        (csv_list(float), "18,inf"),  # was a traceback from the search space, after the run had started
        (csv_list(str, ("math",)), "math,poetry"),
    ],
)
def test_a_parser_refuses_with_a_usage_error(parse, text):
    with pytest.raises(typer.BadParameter):
        parse(text)


@pytest.mark.parametrize(
    "module, argv, said",
    [
        ("benchmarks.reliability.load", ["--items", "0"], "--items"),
        ("benchmarks.reliability.fuzz", ["--scale", "x"], "--scale"),
        ("benchmarks.reliability.faults", ["--fast"], "--fast"),
        ("benchmarks.reliability.kill_resume", ["--quick", "yes"], "yes"),
    ],
)
def test_the_reliability_scripts_refuse_a_wrong_option_in_one_line(module, argv, said):
    done = subprocess.run([sys.executable, "-m", module, *argv], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    err = done.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"python -m {module}: error: ") and said in err[0]


def test_a_list_keeps_its_order_without_repeats():
    # `--budgets 18,18` ran the setting twice and counted it as two settings in the medians
    assert csv_list(float)("30,18,30,18") == (30.0, 18.0)
    assert csv_list(str, ("math", "mmlu"))("mmlu,math,mmlu") == ("mmlu", "math")

"""`route fit`'s --tolerance only sets the default target: given with --target-flops or --target-accuracy it is
refused in one line (exit 2) before the run is read, from the CLI as from Python, instead of silently ignored;
`--help` says so."""
from __future__ import annotations

import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize.route_fit import fit_route
from rolegraph.optimize.route_options import DEFAULT_TOLERANCE, check_tolerance

from tests.cli.support import cli


@pytest.mark.parametrize("target", [["--target-flops", "20"], ["--target-accuracy", "0.5"]])
@pytest.mark.parametrize("tolerance", ["0.5", "0.01"])  # the default value too: given is given
def test_tolerance_with_a_target_is_one_line_exit_2(tmp_path, capsys, target, tolerance):
    code, out, err = cli(["route", "fit", tmp_path / "no-such-run", *target, "--tolerance", tolerance], capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"error: give {target[0]} or --tolerance, not both: --tolerance sets the default target")


def test_the_api_refuses_it_too_and_a_lone_tolerance_or_target_passes(tmp_path):
    with pytest.raises(SearchError, match="give --target-flops or --tolerance, not both"):
        fit_route(tmp_path / "no-such-run", target_flops=20.0, tolerance=0.5)
    with pytest.raises(SearchError, match="give --target-accuracy or --tolerance, not both"):
        check_tolerance(None, 0.5, 0.0)
    assert check_tolerance(20.0, None, None) == check_tolerance(None, 0.5, None) == DEFAULT_TOLERANCE == 0.01
    assert check_tolerance(None, None, 0.5) == 0.5


def test_help_says_tolerance_is_not_for_a_target(capsys):
    code, out, _ = cli(["route", "fit", "--help"], capsys)
    assert code == 0
    text = " ".join(out.replace("│", " ").split())  # rich boxes and wraps the options table
    assert "not with --target-flops or --target-accuracy, which set the target themselves" in text
    assert "(default 0.01)" in text

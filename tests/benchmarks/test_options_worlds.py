"""A world past the simulator's last (`MAX_WORLD`) is one usage line and exit 2 before any benchmark runs: `--world
99999999` and `--worlds 1000001` passed the option parsers and were a WorldError traceback once the run began. A list
longer than `MAX_LISTED` (a range typed by mistake, `--seeds 0-100000000000`) is refused rather than built."""

from __future__ import annotations

import importlib

import pytest
import typer

from benchmarks import __main__ as entry
from benchmarks import common
from benchmarks.options import MAX_LISTED, parse_numbers, parse_worlds, world_number
from rolegraph.sim.world import MAX_WORLD


@pytest.fixture
def calls(monkeypatch):
    """Every benchmark's `run` replaced by a recorder (as tests/benchmarks/test_main.py does)."""
    seen: list[str] = []
    for name in (*entry.NAMES, *entry.REAL, *entry.DATA):
        module = importlib.import_module(f"benchmarks.{name}")
        monkeypatch.setattr(module, "run", lambda _name=name, **_: seen.append(_name))
    monkeypatch.setattr(entry, "start_run", common.BenchRun)
    return seen


@pytest.mark.parametrize("argv, said", [
    (["agreement_sim", "--world", str(MAX_WORLD + 1)], f"{MAX_WORLD + 1} is not a world (0 to 1,000,000)"),
    (["routing", "--worlds", "99999999"], "worlds: '99999999' goes past 1,000,000, the largest there is"),
    (["generalization", "--worlds", f"0,{MAX_WORLD}-{MAX_WORLD + 2}"], "goes past 1,000,000"),
    (["gsm8k_check", "--data", "DATA", "--worlds", str(MAX_WORLD + 1)], "goes past 1,000,000"),
    (["oracle_floor", "--worlds", str(MAX_WORLD + 1)], "goes past 1,000,000"),
    (["search_efficiency", "--seeds", f"0-{MAX_LISTED}"], f"lists more than {MAX_LISTED:,}"),
])
def test_a_number_out_of_range_is_one_line_and_exit_2(argv, said, calls, capsys, tmp_path):
    data = tmp_path / "gsm.jsonl"
    data.write_text('{"question": "What is 1 + 1?", "answer": "#### 2"}\n')
    with pytest.raises(SystemExit) as exc:
        entry.main([str(data) if a == "DATA" else a for a in argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and said in err[0] and err[0].startswith("python -m benchmarks")
    assert calls == []


def test_the_last_world_and_long_lists_still_parse():
    assert world_number(str(MAX_WORLD)) == MAX_WORLD
    assert parse_worlds(f"{MAX_WORLD - 1}-{MAX_WORLD},3,{MAX_WORLD}") == (MAX_WORLD - 1, MAX_WORLD, 3)
    assert len(parse_numbers(f"0-{MAX_LISTED - 1}", "seeds")) == MAX_LISTED
    with pytest.raises(typer.BadParameter):
        parse_numbers(f"0-{MAX_LISTED - 1},{MAX_LISTED}", "seeds")

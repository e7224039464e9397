"""The xdist module order (tests/module_order_support.py): whole modules move, longest first, nothing is lost."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.module_order_support import SECONDS_FILE, load_seconds, longest_modules_first, seconds_from_durations

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class FakeItem:
    nodeid: str


def test_whole_modules_move_longest_first_and_keep_their_tests_order():
    items = [FakeItem(n) for n in ("tests/a.py::t1", "tests/a.py::t2", "tests/b.py::t1", "tests/c.py::t2",
                                   "tests/c.py::t1", "tests/d.py::t1", "tests/b.py::t0")]
    ordered = [i.nodeid for i in longest_modules_first(items, {"tests/c.py": 50.0, "tests/b.py": 9.5})]
    assert ordered == ["tests/c.py::t2", "tests/c.py::t1", "tests/b.py::t1", "tests/b.py::t0",
                       "tests/a.py::t1", "tests/a.py::t2", "tests/d.py::t1"]  # a and d unknown: collection order


def test_every_module_listed_exists_and_the_file_reads_longest_first():
    seconds = load_seconds()
    missing = [m for m in seconds if not (ROOT / m).is_file()]
    assert not missing, f"renamed or removed: refresh {SECONDS_FILE.name}: {missing}"
    assert len(seconds) >= 20 and list(seconds.values()) == sorted(seconds.values(), reverse=True)


def test_a_durations_log_sums_each_modules_phases():
    log = ("12.50s call     tests/x/test_a.py::test_one[p]\n"
           "1.25s setup    tests/x/test_a.py::test_one[p]\n"
           "0.75s teardown tests/x/test_b.py::TestK::test_two\n"
           "(10 durations < 0.005s hidden.)\n")
    assert seconds_from_durations(log) == {"tests/x/test_a.py": 13.75, "tests/x/test_b.py": 0.75}

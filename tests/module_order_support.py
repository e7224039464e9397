"""The order the two xdist workers are handed test modules in: the longest known modules first.

`--dist loadfile` runs a module whole on one worker and, by default, hands modules out by their number of tests,
most first. The longest modules have one test each (a real-model search, ten seeded searches), so they came last:
one worker ran them for the last ~50 s while the other had finished and sat idle (835 s wall for 1546 s of tests).
Handing the longest out first lets the many short modules fill in behind them. Only whole modules move: the tests
of a module keep their order, and each still runs every test it did. A module missing from `module_seconds.txt`
counts as short; a stale figure only costs a little balance, never a test.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

SECONDS_FILE = Path(__file__).with_name("module_seconds.txt")
DURATION_LINE = re.compile(r"^(?P<s>\d+(?:\.\d+)?)s (?:setup|call|teardown)\s+(?P<module>[^:\s]+)::")
LISTED_FROM_S = 3.0
"""Modules shorter than this are left out of the file when it is refreshed: their order hardly matters."""


class _Item(Protocol):
    nodeid: str


def module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def load_seconds(path: Path = SECONDS_FILE) -> dict[str, float]:
    """`module_seconds.txt` as {module path: seconds}; comment lines start with #."""
    seconds: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            value, module = line.split()
            seconds[module] = float(value)
    return seconds


def longest_modules_first(items: Sequence[_Item], seconds: dict[str, float]) -> list[_Item]:
    """`items` with whole modules ordered by their known seconds, longest first; ties (and unknown modules, as 0)
    keep their collection order, and the tests of a module keep theirs."""
    by_module: dict[str, list[_Item]] = {}
    for item in items:
        by_module.setdefault(module_of(item.nodeid), []).append(item)
    ordered = sorted(by_module, key=lambda module: -seconds.get(module, 0.0))  # sorted() is stable
    return [item for module in ordered for item in by_module[module]]


def seconds_from_durations(text: str) -> dict[str, float]:
    """Each module's seconds from the lines of a `pytest --durations=0` run."""
    total: defaultdict[str, float] = defaultdict(float)
    for line in text.splitlines():
        m = DURATION_LINE.match(line)
        if m:
            total[m.group("module")] += float(m.group("s"))
    return dict(total)


def main(argv: Sequence[str]) -> None:
    """Print the data lines of `module_seconds.txt` from a durations log (keep the file's comment lines)."""
    seconds = seconds_from_durations(Path(argv[0]).read_text(encoding="utf-8"))
    for module, value in sorted(seconds.items(), key=lambda kv: -kv[1]):
        if value >= LISTED_FROM_S:
            print(f"{value:.1f} {module}")


if __name__ == "__main__":
    main(sys.argv[1:])

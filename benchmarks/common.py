"""What every benchmark shares: the machine it ran on, robust summaries, JSON + table output."""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """nproc, python, langgraph version, platform and the date: written into every result file."""
    from importlib.metadata import version

    return {"nproc": os.cpu_count(), "python": platform.python_version(), "langgraph": version("langgraph"),
            "platform": platform.platform(), "load_avg_1m": round(os.getloadavg()[0], 2),
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), **_git()}


def _git() -> dict[str, Any]:
    """The commit measured, and whether the package had uncommitted changes (results then may not reproduce)."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "rolegraph"], cwd=root, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"commit": commit, "package_uncommitted_changes": bool(dirty)}


@dataclass(frozen=True)
class Spread:
    """A median over repeats with its min and max (how every timing ratio is reported)."""

    median: float
    lo: float
    hi: float

    @classmethod
    def of(cls, values: Sequence[float]) -> "Spread":
        return cls(statistics.median(values), min(values), max(values))

    def text(self, fmt: str = "{:.2f}") -> str:
        return f"{fmt.format(self.median)} ({fmt.format(self.lo)}-{fmt.format(self.hi)})"

    def as_dict(self) -> dict[str, float]:
        return {"median": self.median, "min": self.lo, "max": self.hi}


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table."""
    cells = [[str(c) for c in r] for r in rows]
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in cells]
    return "\n".join(out)


def write_result(name: str, payload: dict[str, Any], tables: str, out_dir: Path | None = None,
                 quick: bool = False, options: str = "", file_stem: str | None = None) -> Path:
    """Write `<name>[-quick].json` (payload + machine + command) and `<name>[-quick].md` (the tables);
    `options` are the benchmark's own command-line options, appended to the command shown; `file_stem`
    replaces `<name>` in the file names (a run on other settings that must not overwrite the default's)."""
    out_dir = out_dir or RESULTS_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = file_stem or name
    stem = f"{stem}-quick" if quick else stem
    command = f"python -m benchmarks {name}" + (" --quick" if quick else "") + (f" {options}" if options else "")
    meta = {"benchmark": name, "quick": quick, "command": command, "machine": machine()}
    path = out_dir / f"{stem}.json"
    path.write_text(json.dumps({**meta, **payload}, indent=2, default=str) + "\n")
    header = f"# {name}{' (quick)' if quick else ''}\n\nCommand: `{command}`  \nMachine: " + \
             ", ".join(f"{k} {v}" for k, v in meta["machine"].items()) + "\n\n"
    (out_dir / f"{stem}.md").write_text(header + tables.rstrip() + "\n")
    return path


def scratch_home() -> Path:
    """A throwaway ROLEGRAPH_HOME: benchmarks never touch ~/.rolegraph or the repo's state."""
    return Path(tempfile.mkdtemp(prefix="rolegraph-bench-"))


def say(*parts: Any) -> None:
    print(*parts, file=sys.stderr, flush=True)


def in_processes(job: Callable[..., Any], args: Sequence[tuple], jobs: int) -> list[Any]:
    """`job(*a)` for each of `args`, in `jobs` worker processes when there is more than one of each, in order."""
    if jobs > 1 and len(args) > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(job, *zip(*args)))
    return [job(*a) for a in args]

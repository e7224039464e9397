"""What every benchmark shares: the machine it ran on, robust summaries, JSON + table output."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent
TRACKED = ("rolegraph", "benchmarks", ":(exclude)benchmarks/results")
"""What a run's code is: the package and the benchmarks (not the results they write)."""


class UsageError(ValueError):
    """A user's mistake in a benchmark's options: `python -m benchmarks` prints it as one line and exits 2."""


def require_positive(option: str, value: int | None) -> None:
    """For a run called from Python: the same check as `positive_int` on the command line."""
    if value is not None and value < 1:
        raise UsageError(f"{option} must be at least 1, got {value}")


def numbers_label(values: Sequence[float | int]) -> str:
    """Numbers as a file name part, in the order given: a run of consecutive integers as A-B, runs joined by
    '_' (2000..2003 -> '2000-2003'; 0, 5, 9 -> '0_5_9'; 0, 1, 2, 5 -> '0-2_5'; 42.0 -> '42')."""
    parts: list[list[float | int]] = []
    for v in values:
        if parts and float(v).is_integer() and float(parts[-1][-1]).is_integer() and v == parts[-1][-1] + 1:
            parts[-1].append(v)
        else:
            parts.append([v])
    return "_".join(f"{p[0]:g}" if len(p) == 1 else f"{p[0]:g}-{p[-1]:g}" for p in parts)


@dataclass(frozen=True)
class RunStart:
    """What was read when a run started: the time, the commit and tree state (`_git`), the code's hash."""

    started: str
    git: dict[str, Any]
    fingerprint: str | None


@dataclass
class BenchRun:
    """One benchmark run: the provenance read at its start and the scratch directories it made, passed to whatever
    makes a scratch home or writes the result (they were two module-level containers every run mutated).

    `start_run` makes one at the start of a run (`python -m benchmarks` does, before every benchmark) and hands it
    to the benchmark's `run`; a benchmark called from Python without one makes a `BenchRun()`, whose provenance is
    read when the result is written (and says so). A worker process gets its own (`in_processes`)."""

    start: RunStart | None = None
    scratch: list[Path] = field(default_factory=list)

    def provenance(self) -> dict[str, Any]:
        """The run's commit and uncommitted-changes flags (read at its start; now, for a run not started)."""
        return dict(self.start.git) if self.start is not None else _git()

    def machine(self) -> dict[str, Any]:
        """nproc, python, langgraph version, platform, the date, and the code measured: written into every result
        file. `commit` and `package_uncommitted_changes` are read at the start of the run (`git_read`); `null` when
        git cannot tell (not a checkout: unknown, never "clean"); `tree_changed_during_run` when the code differs
        at the end (another commit, or edits to the package or the benchmarks)."""
        from importlib.metadata import version

        out = {"nproc": os.cpu_count(), "python": platform.python_version(), "langgraph": version("langgraph"),
               "platform": platform.platform(), "load_avg_1m": round(os.getloadavg()[0], 2), "date": _now()}
        if self.start is not None:
            end = _fingerprint()
            changed = None if end is None or self.start.fingerprint is None else end != self.start.fingerprint
            out |= {"started": self.start.started, **self.start.git, "git_read": "start of run",
                    "tree_changed_during_run": changed}
        else:
            out |= {**_git(), "git_read": "when written"}
        return out

    def write_result(self, name: str, payload: dict[str, Any], tables: str, out_dir: Path | None = None,
                     quick: bool = False, options: str = "", file_stem: str | None = None) -> Path:
        """Write `<name>[-quick].json` (payload + machine + command) and `<name>[-quick].md` (the tables);
        `options` are the benchmark's own command-line options, appended to the command shown; `file_stem`
        replaces `<name>` in the file names (a run on other settings that must not overwrite the default's).
        The run's scratch directories are removed after (`scratch_home`): a result never points into them; and the
        run is over: its start is forgotten, so a later result from it reads its own provenance."""
        out_dir = out_dir or RESULTS_DIR
        out_dir.mkdir(parents=True, exist_ok=True)
        stem = file_stem or name
        stem = f"{stem}-quick" if quick else stem
        command = f"python -m benchmarks {name}" + (" --quick" if quick else "") + (f" {options}" if options else "")
        meta = {"benchmark": name, "quick": quick, "command": command, "machine": self.machine()}
        path = out_dir / f"{stem}.json"
        path.write_text(json.dumps({**meta, **payload}, indent=2, default=str) + "\n")
        header = f"# {name}{' (quick)' if quick else ''}\n\nCommand: `{command}`  \nMachine: " + \
                 ", ".join(f"{k} {v}" for k, v in meta["machine"].items()) + "\n\n"
        (out_dir / f"{stem}.md").write_text(header + tables.rstrip() + "\n")
        self.remove_scratch()
        self.start = None
        return path

    def scratch_home(self) -> Path:
        """A throwaway ROLEGRAPH_HOME: benchmarks never touch ~/.rolegraph or the repo's state. Removed when the
        run's result is written (or, in a worker process, when its job ends: `in_processes`)."""
        path = Path(tempfile.mkdtemp(prefix="rolegraph-bench-"))
        self.scratch.append(path)
        return path

    def remove_scratch(self) -> int:
        """Remove every scratch directory this run made and has not removed yet; how many were removed."""
        mine, self.scratch = self.scratch, []
        for path in mine:
            shutil.rmtree(path, ignore_errors=True)
        return sum(not path.exists() for path in mine)


def start_run() -> BenchRun:
    """A run whose provenance (commit, uncommitted changes) is read now, at its start: the result file records this,
    not the tree found when it is written (`python -m benchmarks` calls it before every benchmark)."""
    return BenchRun(RunStart(started=_now(), git=_git(), fingerprint=_fingerprint()))


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _git_out(*args: str) -> str | None:
    """A git command's output in the project's own checkout; None when git fails or the project is not one."""
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _in_checkout() -> bool:
    top = _git_out("rev-parse", "--show-toplevel")
    return top is not None and Path(top.strip()).resolve() == ROOT


def _git() -> dict[str, Any]:
    """The commit measured and whether the package (`rolegraph/`) and the benchmarks had uncommitted changes
    (results then may not reproduce); all None ("unknown") when git cannot tell, e.g. run from an archive."""
    unknown = {"commit": None, "package_uncommitted_changes": None, "benchmarks_uncommitted_changes": None}
    if not _in_checkout():
        return unknown
    commit = _git_out("rev-parse", "--short", "HEAD")
    package = _git_out("status", "--porcelain", "--", "rolegraph")
    bench = _git_out("status", "--porcelain", "--", "benchmarks", ":(exclude)benchmarks/results")
    if commit is None or not commit.strip():
        return unknown
    return {"commit": commit.strip(), "package_uncommitted_changes": None if package is None else bool(package.strip()),
            "benchmarks_uncommitted_changes": None if bench is None else bool(bench.strip())}


def _fingerprint() -> str | None:
    """A hash of the code measured: HEAD, the diff of the package and the benchmarks against it, and their untracked
    files' contents; None when git cannot tell."""
    if not _in_checkout():
        return None
    head = _git_out("rev-parse", "HEAD")
    diff = _git_out("diff", "HEAD", "--no-ext-diff", "--", *TRACKED)
    others = _git_out("ls-files", "--others", "--exclude-standard", "--", *TRACKED)
    if head is None or diff is None or others is None:
        return None
    digest = hashlib.sha256((head + diff).encode())
    for name in sorted(others.split()):
        digest.update(name.encode())
        try:
            digest.update((ROOT / name).read_bytes())
        except OSError:
            pass
    return digest.hexdigest()


@dataclass(frozen=True)
class Spread:
    """A median over repeats with its min and max (how every timing ratio is reported)."""

    median: float
    lo: float
    hi: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
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


def say(*parts: Any) -> None:
    print(*parts, file=sys.stderr, flush=True)


def _job_then_clean(job: Callable[..., Any], *args: Any) -> Any:
    """A worker process's job with a run of its own, whose scratch directories go when the job ends (a worker
    never writes the result, and never removes its parent's directories, which may still be in use)."""
    worker = BenchRun()
    try:
        return job(worker, *args)
    finally:
        worker.remove_scratch()


def in_processes(bench_run: BenchRun, job: Callable[..., Any], args: Sequence[tuple], jobs: int) -> list[Any]:
    """`job(run, *a)` for each of `args`, in order: in `jobs` worker processes when there is more than one of each
    (each job given a run of its own), else here, given `bench_run`."""
    if jobs > 1 and len(args) > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(partial(_job_then_clean, job), *zip(*args)))
    return [job(bench_run, *a) for a in args]

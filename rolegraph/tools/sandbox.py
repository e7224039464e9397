"""Run untrusted python (written by a model) in a contained subprocess.

Every run gets a fresh temporary working dir (removed after), an environment with nothing from the
parent (PATH, HOME=the dir, LANG), rlimits on address space, CPU seconds, processes and file size, and a
wall timeout that kills the whole process tree. Where the OS allows it (see `isolation.py`) it also runs
with no network, in its own PID namespace, with a read-only view of the filesystem outside its dir
(/run, /tmp, /var/tmp and /dev/shm empty, but for its dir and the interpreter, and rolegraph's state
directory empty too: `state_dirs`), no capabilities, a pids cgroup, and a memory cgroup capping
everything the run holds (`memory_mb` plus the boot process's headroom, memfd files and tmpfs pages
included, summed over its processes; past it the kernel kills a process and the result's `reason` says
so); and a seccomp filter (`seccomp.py`) denies it sockets, so it reaches no local service through a
Unix socket file, even where the namespaces are missing, and namespaces of its own, so it gets no
capabilities back (no mount of its own, no tmpfs beyond the rlimits). `SandboxResult.isolation` lists
what was actually in force, so callers and tests never assume; each needed layer that is missing is
named in one logged warning per process, by the probe (`probe_layers`; a run lacking a layer the probe had
is named each time: `containment.py`), and model code is refused outright where
neither the network namespace nor the filter holds, unless the caller allows weak containment
(`allow_weak`, --allow-weak-sandbox).

It contains mistakes and runaway code; it is not a boundary against a determined attacker: when
the parent runs as root the child is still uid 0 (without capabilities), so it can read files that
root can read (outside the hidden dirs), though it cannot write them or see other processes. Hiding
needs the private mount table: without it (`hidden-dirs` missing, warned about once per process) the
state directory is readable like any other file.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

import rolegraph.tools.containment as containment
import rolegraph.tools.isolation as isolation
from rolegraph.settings import DEFAULT_HOME, Settings
from rolegraph.tools.base import Tool, ToolResult

MAX_PROCS = 16  # processes + threads the sandboxed program may have, itself included
MAX_OUTPUT_CHARS = 20_000  # per stream, kept in the result (the file on disk is capped by max_file_mb)
MAX_OPEN_FILES = 64
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MEMORY_MB = 512
DEFAULT_FILE_MB = 16
CPU_HARD_GRACE_S = 1  # SIGXCPU at the soft CPU limit, SIGKILL one second later
TOOL_GRACE_S = 5.0  # the tool's own timeout sits above the sandbox's, which kills first
BOOT_PROCS = 1  # the boot process waits in the cgroup beside the user's processes
BOOT_MEMORY_MB = 16  # the memory cgroup's headroom over the budget: what the boot process allocates itself
MB = 1024 * 1024
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
SCRIPT = "main.py"
PROBE_CODE = "pass"
IPC_NAMESPACE = "/proc/self/ns/ipc"
SIGNAL_REASONS = {
    24: "CPU time limit exceeded",
    25: "file size limit exceeded",
    9: "killed (SIGKILL)",
    7: "bus error (SIGBUS)",
}
OUT_OF_MEMORY = ("MemoryError", "Cannot allocate memory")  # in stderr: the code saw the limit itself

BOOT_SCRIPT = Path(__file__).with_name("sandbox_boot.py")  # run as a script, never imported
# facts the boot script reports, in this order
OBSERVED = ("netns", "pidns", "ipcns", "readonly", "hidden_dirs", "no_caps", "seccomp")


class SandboxResult(BaseModel):
    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None  # negative: killed by that signal; None: killed at the wall timeout
    timed_out: bool = False
    killed: bool = False
    reason: str | None = None
    isolation: list[str] = Field(default_factory=list, description="containment in force for this run")
    missing: list[str] = Field(
        default_factory=list, description="layers this machine's runs should have but this one did not"
    )
    oom_kills: int = Field(default=0, description="processes the run's memory cgroup killed at its limit")

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    @property
    def network_blocked(self) -> bool:
        return "netns" in self.isolation or "seccomp" in self.isolation

    @property
    def sockets_blocked(self) -> bool:
        """No socket of any family, Unix sockets bound to a path included (only socketpair remains),
        and no new namespace (the same filter: `seccomp` in `isolation`)."""
        return "seccomp" in self.isolation


def _read_capped(path: Path) -> str:
    with path.open("rb") as fh:
        data = fh.read(MAX_OUTPUT_CHARS * 4 + 1)  # utf-8 is at most 4 bytes a char
        rest = fh.seek(0, os.SEEK_END) - len(data)
    text = data.decode("utf-8", errors="replace")
    if len(text) > MAX_OUTPUT_CHARS or rest > 0:
        text = text[:MAX_OUTPUT_CHARS] + f"\n... [output truncated at {MAX_OUTPUT_CHARS} characters]"
    return text


def state_dirs(extra: Iterable[str | Path] = ()) -> list[str]:
    """rolegraph's state directories, which the sandboxed code must not read (the results store holds gold
    answers, the response cache the models' replies): `$ROLEGRAPH_HOME` (or its default), the default
    `~/.rolegraph` (older state may sit there), and `extra` (a caller's `Settings.home`).

    Read from the environment at each run, so every caller (the python tool, the humaneval scorer, a
    library user who never passes a `Settings`) hides at least the state the CLI writes."""
    dirs = [Settings.from_env().home, DEFAULT_HOME.expanduser(), *(Path(d).expanduser() for d in extra)]
    return list(dict.fromkeys(os.path.abspath(d) for d in dirs))


def _limits(memory_mb: int, cpu_s: float, max_procs: int, max_file_mb: int) -> dict[str, int]:
    return {
        "RLIMIT_AS": memory_mb * MB,
        "RLIMIT_CPU": math.ceil(cpu_s) + CPU_HARD_GRACE_S,
        "RLIMIT_NPROC": isolation.count_user_processes(os.getuid()) + max_procs,
        "RLIMIT_FSIZE": max_file_mb * MB,
        "RLIMIT_NOFILE": MAX_OPEN_FILES,
    }


def _details(status: dict[str, Any], namespaced: bool) -> dict[str, str]:
    """Why a layer is missing, where the run knows (for the warning and the refusal)."""
    out = {"seccomp": str(status.get("seccomp_error") or "not observed in force")}
    if not namespaced:
        out["netns"] = "no namespace chain could start here (util-linux `unshare` missing or not permitted)"
    return out


def _ipc_namespace() -> int | None:
    """This process's IPC namespace (an inode number), for the boot script to tell whether it has its own."""
    try:
        return os.stat(IPC_NAMESPACE).st_ino
    except OSError:
        return None


def _environment(workdir: Path) -> dict[str, str]:
    """Nothing inherited: no keys, no proxies, no PYTHON* variables."""
    return {
        "PATH": SAFE_PATH,
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "MALLOC_ARENA_MAX": "2",
    }


def _attempt(
    prefix: list[str],
    workdir: Path,
    private: Path,
    cfg: dict[str, Any],
    stdin: str,
    timeout_s: float,
    pids_cg: isolation.PidsCgroup | None,
    memory_cg: isolation.MemoryCgroup | None,
) -> tuple[SandboxResult, dict[str, Any]]:
    """One launch through one namespace prefix. Returns the result and what the boot script
    reported (empty when the chain never reached it, e.g. namespaces not permitted)."""
    cgroups = [cg for cg in (pids_cg, memory_cg) if cg is not None]
    status_path = private / "status"
    (private / "stdin").write_text(stdin)
    with (
        (private / "stdin").open("rb") as fin,
        (private / "stdout").open("wb") as fout,
        (private / "stderr").open("wb") as ferr,
        status_path.open("wb") as fstatus,
    ):
        cfg = {
            **cfg,
            "status_fd": fstatus.fileno(),
            "contain": bool(prefix),
            "host_ipc_ns": _ipc_namespace(),
            "cgroups": [str(cg.path) for cg in cgroups],
        }
        cmd = [*prefix, sys.executable, "-I", "-S", str(BOOT_SCRIPT), json.dumps(cfg)]
        proc = subprocess.Popen(
            cmd,
            stdin=fin,
            stdout=fout,
            stderr=ferr,
            cwd=workdir,
            env=_environment(workdir),
            start_new_session=True,
            pass_fds=(fstatus.fileno(),),
        )
        timed_out = False
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        isolation.kill_group(proc.pid)  # also ends leftovers after a normal exit
        for cg in cgroups:
            cg.kill_all()
        proc.wait()
    status: dict[str, Any] = {}
    for line in status_path.read_text().splitlines():
        try:
            status.update(json.loads(line))
        except json.JSONDecodeError:  # a line cut short by the kill
            pass
    code = None if timed_out else status.get("exit", proc.returncode)
    result = SandboxResult(
        stdout=_read_capped(private / "stdout"),
        stderr=_read_capped(private / "stderr"),
        exit_code=code,
        timed_out=timed_out,
        killed=timed_out or (code is not None and code < 0),
    )
    if timed_out:
        result.reason = f"wall timeout after {timeout_s:g}s: process tree killed"
    elif code is not None and code < 0:
        result.reason = SIGNAL_REASONS.get(-code, f"killed by signal {-code}")
    elif code and any(sign in result.stderr for sign in OUT_OF_MEMORY):
        result.reason = "memory limit reached (" + ("MemoryError" if "MemoryError" in result.stderr else "ENOMEM") + ")"
    result.oom_kills = memory_cg.oom_kills() if memory_cg is not None else 0
    if memory_cg is not None and result.oom_kills:
        note = (
            f"memory limit reached: {result.oom_kills} process(es) killed at the run's "
            f"{memory_cg.limit_bytes // MB} MB memory cgroup limit"
        )
        result.reason = f"{result.reason}; {note}" if timed_out else note
    return result, status


def run_python(
    code: str,
    *,
    stdin: str = "",
    timeout_s: float = DEFAULT_TIMEOUT_S,
    cpu_s: float | None = None,
    memory_mb: int = DEFAULT_MEMORY_MB,
    max_procs: int = MAX_PROCS,
    max_file_mb: int = DEFAULT_FILE_MB,
    allow_weak: bool = False,
    hidden_dirs: Iterable[str | Path] = (),
    probe: bool = False,
) -> SandboxResult:
    """Run `code` as a script in a fresh contained subprocess and return what it printed.

    With neither a network namespace nor the seccomp filter in force the code is not started and
    SandboxRefusedError says why, unless `allow_weak` (the CLI's --allow-weak-sandbox). Each needed
    layer that is not in force is warned about once per process: by the probe (`probe`: `probe_layers`'
    own run, which names them all), and by a run only if the probe had it (`containment.warn_lost`).
    `hidden_dirs` are hidden from the code besides the usual ones and the state dirs (`state_dirs`)."""
    workdir = Path(tempfile.mkdtemp(prefix="rolegraph-sbx-"))
    private = Path(tempfile.mkdtemp(prefix="rolegraph-sbx-io-"))  # outside the child's dir
    try:
        (workdir / SCRIPT).write_text(code)
        cfg = {
            "script": SCRIPT,
            "workdir": str(workdir),
            "soft_gap": {"RLIMIT_CPU": CPU_HARD_GRACE_S},
            "limits": _limits(memory_mb, cpu_s if cpu_s is not None else timeout_s, max_procs, max_file_mb),
            "require_containment": not allow_weak,
            "hidden": state_dirs(hidden_dirs),
        }
        for prefix in isolation.namespace_prefixes():
            pids_cg = isolation.PidsCgroup.create(max_procs + BOOT_PROCS)
            memory_cg = isolation.MemoryCgroup.create((memory_mb + BOOT_MEMORY_MB) * MB)
            try:
                result, status = _attempt(prefix, workdir, private, cfg, stdin, timeout_s, pids_cg, memory_cg)
            finally:
                for cg in (pids_cg, memory_cg):
                    if cg is not None:
                        cg.remove()
            if status.get("started") or not prefix:
                seen = [name.replace("_", "-") for name in OBSERVED if status.get(name)]
                joined = status.get("cgroups", [])
                result.isolation = ["rlimits", "process-group", *seen] + [
                    name
                    for name, cg in (("pids-cgroup", pids_cg), ("memory-cgroup", memory_cg))
                    if cg is not None and str(cg.path) in joined
                ]
                details = _details(status, bool(prefix))
                if probe:
                    result.missing = containment.warn_missing(result.isolation, details)
                else:
                    result.missing = containment.warn_lost(result.isolation, probe_layers(), details)
                if status.get("refused"):
                    raise containment.refusal(result.isolation, details)
                return result
        raise AssertionError("unreachable: the last prefix is empty and always returns")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(private, ignore_errors=True)


async def arun_python(
    code: str,
    *,
    stdin: str = "",
    timeout_s: float = DEFAULT_TIMEOUT_S,
    cpu_s: float | None = None,
    memory_mb: int = DEFAULT_MEMORY_MB,
    max_procs: int = MAX_PROCS,
    max_file_mb: int = DEFAULT_FILE_MB,
    allow_weak: bool = False,
    hidden_dirs: Iterable[str | Path] = (),
) -> SandboxResult:
    """`run_python` in a worker thread, so the event loop keeps serving other nodes meanwhile."""
    return await asyncio.to_thread(
        run_python,
        code,
        stdin=stdin,
        timeout_s=timeout_s,
        cpu_s=cpu_s,
        memory_mb=memory_mb,
        max_procs=max_procs,
        max_file_mb=max_file_mb,
        allow_weak=allow_weak,
        hidden_dirs=tuple(hidden_dirs),
    )


@functools.cache
def probe_layers() -> tuple[str, ...]:
    """The layers in force for a trivial run, once per process (about half a second): what the python tool
    tells the model, and what a check before running model code reads (each run still reports its own)."""
    return tuple(run_python(PROBE_CODE, allow_weak=True, probe=True).isolation)


def require_containment(allow_weak: bool) -> None:
    """Refuse, before any model call is paid for, to run model code weakly contained (unless allowed)."""
    layers = probe_layers()
    if containment.weak(layers) and not allow_weak:
        raise containment.refusal(layers)


class PythonTool(Tool):
    """The sandbox as a tool: the model sends a script and reads back what it printed. Its description
    claims only the containment in force here (probed once per process); `allow_weak` lets it run with
    neither namespaces nor the seccomp filter (otherwise the call stops the run with SandboxRefusedError).
    `state_dir` (the run's `Settings.home`) is hidden from the code besides the environment's (`state_dirs`)."""

    name = "python"
    searches = False  # it runs code: a searcher never sends its queries here (agents/agent.py)
    parameters = {
        "type": "object",
        "properties": {"code": {"type": "string", "description": "the script"}},
        "required": ["code"],
    }

    def __init__(
        self,
        run_timeout_s: float = DEFAULT_TIMEOUT_S,
        memory_mb: int = DEFAULT_MEMORY_MB,
        *,
        allow_weak: bool = False,
        state_dir: str | Path | None = None,
    ):
        self.run_timeout_s = run_timeout_s
        self.memory_mb = memory_mb
        self.timeout_s = run_timeout_s + TOOL_GRACE_S
        self.allow_weak = allow_weak
        self.hidden_dirs = () if state_dir is None else (str(state_dir),)

    @property
    def description(self) -> str:  # type: ignore[override]
        return containment.describe_for_model(probe_layers())

    async def _run(self, code: str) -> ToolResult:
        res = await arun_python(
            code,
            timeout_s=self.run_timeout_s,
            memory_mb=self.memory_mb,
            allow_weak=self.allow_weak,
            hidden_dirs=self.hidden_dirs,
        )
        if res.ok:
            return ToolResult(ok=True, text=res.stdout if res.stdout.strip() else "(no output)", data=res.model_dump())
        detail = res.reason or f"exit code {res.exit_code}"
        tail = res.stderr.strip().splitlines()[-1:] if res.stderr.strip() else []
        text = f"error: {detail}" + (f": {tail[0]}" if tail else "")
        if res.stdout.strip():
            text += f"\nstdout:\n{res.stdout}"
        return ToolResult(ok=False, text=text, data=res.model_dump())

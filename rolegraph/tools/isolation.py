"""OS-level containment the python sandbox layers on top of rlimits, each used only where it works.

Measured on the project's machines (root in a VM, kernel 6.x, util-linux 2.38):
- root ignores RLIMIT_NPROC (the kernel exempts uid 0 whatever its capabilities), so a fork bomb is
  stopped by a `pids` cgroup whose `pids.max` is the process budget;
- RLIMIT_AS counts one process's address space, not memory held outside it (a memfd file, tmpfs
  and shmem pages) nor the sum over the run's processes, so a `memory` cgroup (v1
  `memory.limit_in_bytes` + `memory.memsw.limit_in_bytes`, v2 `memory.max` + `memory.swap.max`=0)
  caps all of it: past its limit the kernel's OOM killer ends a process of the run (the count is
  read back for the result);
- `unshare --net --pid --ipc --fork --mount-proc --kill-child` gives an empty network namespace (no
  loopback route: connects fail), a PID namespace (the child sees no other process, so no other
  process's /proc/<pid>/environ; when the sandbox's init dies the kernel kills every process in it,
  even ones that escaped the process group with setsid), an IPC namespace (System V segments the
  code makes die with the run instead of staying in the host's) and a private mount table;
- inside that mount table /run, /tmp, /var/tmp and /dev/shm are covered by empty tmpfs (the working
  dir and the interpreter's installation bound back where they sit beneath), every mount is
  remounted read-only except a bind of the working dir, and the user's process gets an empty
  capability bounding set and no_new_privs, so the still-uid-0 child can neither write outside its
  dir (nor to cgroup or sysctl files) nor undo the mounts;
- path Unix sockets ignore the network namespace, so the user's process also runs under a seccomp
  filter (`seccomp.py`, x86_64 and aarch64) that denies it socket() of every family, and new
  namespaces (a user namespace would hand it capabilities back: mounts, a tmpfs no rlimit
  counts); the chain above makes its namespaces and mounts before the filter is installed. It
  needs no_new_privs only, so it holds in the fallbacks below too.
As an ordinary user the same chain runs under `--map-root-user` when user namespaces are allowed,
and RLIMIT_NPROC (counted against the user's processes) bounds forks. Without util-linux only the
rlimits, the process-group kill and the seccomp filter remain; the result's `isolation` list says
what was in force, and a run without the filter logs a warning.
"""

from __future__ import annotations

import os
import shutil
import signal
import uuid
from collections.abc import Callable
from pathlib import Path

from tenacity import Retrying, retry_if_result, stop_after_delay, wait_fixed

CGROUP_BASES = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))  # cgroup v1 pids hierarchy, then v2
MEMORY_V1_BASE = Path("/sys/fs/cgroup/memory")
CGROUP_V2_BASES = (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified"))  # unified, then a hybrid's v2 part
PROC_CGROUP = Path("/proc/self/cgroup")
CGROUP_PREFIX = "rolegraph-sbx-"
CLEANUP_S = 5.0  # how long to keep killing a cgroup's stragglers before giving up on removing it
CLEANUP_POLL_S = 0.02
UNSHARE_FLAGS = ("--net", "--pid", "--ipc", "--fork", "--mount-proc", "--kill-child")


class Cgroup:
    """A cgroup directory made for one run: `kill_all()` then `remove()` when done."""

    def __init__(self, path: Path):
        self.path = path

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def kill_all(self) -> None:
        """SIGKILL the cgroup's processes until none is left (a fork caught mid-way shows up a round later);
        gives up quietly after CLEANUP_S: `remove` then cannot remove it, and a later run sweeps it."""
        _within_cleanup(self._kill_round)

    def _kill_round(self) -> bool:
        """Kill every process the cgroup holds now: True when it held none."""
        pids = self.pids()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        return not pids

    def remove(self) -> None:
        """Remove the cgroup directory, killing stragglers between tries (a cgroup with processes cannot be
        removed); gives up quietly after CLEANUP_S, leaving it to `_sweep_stale`."""
        _within_cleanup(self._remove_round)

    def _remove_round(self) -> bool:
        if not self.path.exists() or _rmdir_quietly(self.path):
            return True
        self.kill_all()
        return False


def _within_cleanup(attempt: Callable[[], bool]) -> bool:
    """Repeat `attempt` every CLEANUP_POLL_S until it returns True or CLEANUP_S have passed: whether it did.
    Cleanup never fails the run it follows, so running out of time is not an error."""
    poll = Retrying(
        stop=stop_after_delay(CLEANUP_S),
        wait=wait_fixed(CLEANUP_POLL_S),
        retry=retry_if_result(lambda done: not done),
        retry_error_callback=lambda state: False,
    )
    return bool(poll(attempt))


def _new_child(parent: Path, settings: dict[str, str], optional: dict[str, str]) -> Path | None:
    """A fresh cgroup under `parent` with `settings` written (all or nothing) and `optional` written
    where the file exists; None when it cannot be made. Clears stale siblings first."""
    if not (parent / "cgroup.procs").is_file():
        return None
    _sweep_stale(parent)
    path = parent / f"{CGROUP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
    try:
        path.mkdir()
    except OSError:
        return None
    try:
        for name, value in settings.items():
            (path / name).write_text(value)
        for name, value in optional.items():
            if (path / name).is_file():
                (path / name).write_text(value)
        return path
    except OSError:
        _rmdir_quietly(path)
        return None


class PidsCgroup(Cgroup):
    """A fresh pids cgroup capped at `max_pids`."""

    @classmethod
    def create(cls, max_pids: int) -> PidsCgroup | None:
        """A new cgroup, or None where there is no writable pids controller (not root, no cgroupfs)."""
        if os.geteuid() != 0:
            return None
        for base in CGROUP_BASES:
            path = _new_child(base, {"pids.max": str(max_pids)}, {})
            if path is not None:
                return cls(path)
        return None


class MemoryCgroup(Cgroup):
    """A fresh memory cgroup capped at `limit_bytes` for everything its processes hold, swap included.

    RLIMIT_AS counts one process's address space only; this also counts memory held outside it
    (memfd files, tmpfs and shmem pages are charged to the cgroup that first touches them) and
    sums every process of the run. Made inside the cgroup the caller runs in, so the run never
    leaves the caller's own limits; in the hierarchy's root only where that is not possible (v2
    keeps processes out of inner cgroups)."""

    def __init__(self, path: Path, limit_bytes: int, v2: bool):
        super().__init__(path)
        self.limit_bytes = limit_bytes
        self.v2 = v2

    @classmethod
    def create(cls, limit_bytes: int) -> MemoryCgroup | None:
        """A new cgroup, or None where there is no writable memory controller (not root, no cgroupfs)."""
        if os.geteuid() != 0:
            return None
        for parent, v2 in _memory_parents():
            if v2:  # memory.swap.max is swap alone; v1's memsw counts memory + swap
                path = _new_child(parent, {"memory.max": str(limit_bytes)}, {"memory.swap.max": "0"})
            else:
                path = _new_child(
                    parent,
                    {"memory.limit_in_bytes": str(limit_bytes)},
                    {"memory.memsw.limit_in_bytes": str(limit_bytes)},
                )
            if path is not None:
                return cls(path, limit_bytes, v2)
        return None

    def oom_kills(self) -> int:
        """Processes the kernel's OOM killer ended in this cgroup (read before `remove()`)."""
        name = "memory.events" if self.v2 else "memory.oom_control"
        try:
            for line in (self.path / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup path per v1 controller, and under "" its v2 path."""
    out: dict[str, str] = {}
    try:
        lines = PROC_CGROUP.read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(",") if parts[1] else [""]:
                out[controller] = parts[2]
    return out


def _words(path: Path) -> list[str]:
    try:
        return path.read_text().split()
    except OSError:
        return []


def _memory_parents() -> list[tuple[Path, bool]]:
    """Where a memory cgroup may be made, best first: (parent dir, is cgroup v2)."""
    own = _own_cgroups()
    if (MEMORY_V1_BASE / "memory.limit_in_bytes").is_file():
        rels = dict.fromkeys([own.get("memory", "/"), "/"])
        return [(MEMORY_V1_BASE / rel.lstrip("/"), False) for rel in rels]
    for base in CGROUP_V2_BASES:
        if "memory" in _words(base / "cgroup.controllers"):
            parents = [base / rel.lstrip("/") for rel in dict.fromkeys([own.get("", "/"), "/"])]
            return [(p, True) for p in parents if "memory" in _words(p / "cgroup.subtree_control")]
    return []


def _sweep_stale(base: Path) -> None:
    """Remove empty cgroups left by sandbox parents that died before cleaning up."""
    for path in base.glob(f"{CGROUP_PREFIX}*-*"):
        owner = path.name[len(CGROUP_PREFIX) :].split("-", 1)[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            _rmdir_quietly(path)


def _rmdir_quietly(path: Path) -> bool:
    try:
        path.rmdir()
        return True
    except OSError:
        return False


def namespace_prefixes() -> list[list[str]]:
    """Command prefixes to try in order, strongest first; the last (empty: rlimits only) always works.

    What each really gave is observed inside the sandbox (see `sandbox_boot.py`), not assumed here.
    """
    unshare = shutil.which("unshare")
    out: list[list[str]] = []
    if unshare:
        if os.geteuid() == 0:
            out.append([unshare, *UNSHARE_FLAGS, "--"])
        out.append([unshare, "--map-root-user", *UNSHARE_FLAGS, "--"])
    out.append([])
    return out


def count_user_processes(uid: int) -> int:
    """Processes owned by `uid` now: RLIMIT_NPROC counts them all, so the budget goes on top."""
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                count += entry.stat().st_uid == uid
            except OSError:
                pass
    return count


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass

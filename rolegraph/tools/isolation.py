"""OS-level containment the python sandbox layers on top of rlimits, each used only where it works.

Measured on the project's machines (root in a VM, kernel 6.x, util-linux 2.38):
- root ignores RLIMIT_NPROC (the kernel exempts uid 0 whatever its capabilities), so a fork bomb is
  stopped by a `pids` cgroup whose `pids.max` is the process budget;
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
import time
import uuid
from pathlib import Path

CGROUP_BASES = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))  # cgroup v1 pids hierarchy, then v2
CGROUP_PREFIX = "rolegraph-sbx-"
CLEANUP_S = 5.0  # how long to keep killing a cgroup's stragglers before giving up on removing it
CLEANUP_POLL_S = 0.02
UNSHARE_FLAGS = ("--net", "--pid", "--ipc", "--fork", "--mount-proc", "--kill-child")


class PidsCgroup:
    """A fresh pids cgroup capped at `max_pids`; `kill_all()` then `remove()` when done."""

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def create(cls, max_pids: int) -> "PidsCgroup | None":
        """A new cgroup, or None where there is no writable pids controller (not root, no cgroupfs)."""
        if os.geteuid() != 0:
            return None
        for base in CGROUP_BASES:
            if not (base / "cgroup.procs").is_file():
                continue
            _sweep_stale(base)
            path = base / f"{CGROUP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
            try:
                path.mkdir()
            except OSError:
                continue
            try:
                (path / "pids.max").write_text(str(max_pids))
                return cls(path)
            except OSError:
                _rmdir_quietly(path)
        return None

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def kill_all(self) -> None:
        deadline = time.monotonic() + CLEANUP_S
        while time.monotonic() < deadline:
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(CLEANUP_POLL_S)

    def remove(self) -> None:
        deadline = time.monotonic() + CLEANUP_S
        while self.path.exists() and time.monotonic() < deadline:
            if _rmdir_quietly(self.path):
                return
            self.kill_all()
            time.sleep(CLEANUP_POLL_S)


def _sweep_stale(base: Path) -> None:
    """Remove empty cgroups left by sandbox parents that died before cleaning up."""
    for path in base.glob(f"{CGROUP_PREFIX}*-*"):
        owner = path.name[len(CGROUP_PREFIX):].split("-", 1)[0]
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

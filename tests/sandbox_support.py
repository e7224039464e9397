"""What this machine lets the python sandbox enforce, read from the kernel and /proc by the tests' own
minimal probes, never from the sandbox's code or its report.

The sandbox tests compare what a run reports (`SandboxResult.isolation`) and what the code inside it
could do against this: where the machine supports a layer, the sandbox must have it in force, so a
regression that drops a layer fails a test instead of passing as a "documented limitation".

- namespaces (netns, pidns, ipcns) and the private, writable-as-root mount table they come with
  (readonly, hidden-dirs): util-linux `unshare` on PATH (the sandbox's chain uses it), and a forked
  child that really calls unshare(2) for new net, pid, ipc and mount namespaces (a user namespace too
  when not root, with its uid mapped) and mounts a tmpfs in it;
- no-caps: the capability bounding set can be emptied: CAP_SETPCAP in /proc/self/status CapEff, or
  root inside a user namespace;
- seccomp: /proc/self/status has a Seccomp field, the machine is one the filter knows (x86_64,
  aarch64), and a forked child installs an allow-all filter with prctl(2);
- pids-cgroup / memory-cgroup: root, and a read-write cgroup mount in /proc/self/mountinfo with the
  controller (v1 super options, or a v2 root whose cgroup.subtree_control delegates it).
"""
from __future__ import annotations

import ctypes
import functools
import os
import platform
import shutil
import tempfile
from pathlib import Path

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUSER = 0x00020000, 0x08000000, 0x10000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_REC, MS_PRIVATE = 16384, 1 << 18
CAP_SETPCAP = 8
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
BPF_RET_K, SECCOMP_RET_ALLOW = 0x06, 0x7FFF0000
FILTER_MACHINES = ("x86_64", "aarch64")
NAMESPACE_LAYERS = ("netns", "pidns", "ipcns", "readonly", "hidden-dirs")
ALWAYS = ("rlimits", "process-group")


def _status(field: str) -> str | None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    return None


def _in_child(probe) -> bool:
    """Run `probe()` in a forked child (whatever it changes dies with it); True when it returned True."""
    pid = os.fork()
    if pid == 0:
        try:
            ok = bool(probe())
        except BaseException:  # noqa: BLE001 - any failure means "not supported"
            ok = False
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _namespaces_and_a_mount(target: str) -> bool:
    libc = ctypes.CDLL(None, use_errno=True)
    root = os.geteuid() == 0
    uid, gid = os.geteuid(), os.getegid()
    flags = CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNS | (0 if root else CLONE_NEWUSER)
    if libc.unshare(flags) != 0:
        return False
    if not root:
        for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
            Path(f"/proc/self/{name}").write_text(text)
    if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:  # nothing propagates back out
        return False
    return libc.mount(b"none", target.encode(), b"tmpfs", 0, b"size=1m") == 0


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def _allow_all_filter() -> bool:
    libc = ctypes.CDLL(None, use_errno=True)
    program = (_SockFilter * 1)(_SockFilter(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW))
    fprog = _SockFprog(1, program)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) == 0


def _cgroup_mounts() -> list[tuple[Path, str, set[str], bool]]:
    """(mount point, fstype, v1 super options, read-write) of every cgroup mount."""
    out = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        sep = fields.index("-")
        fstype, super_opts = fields[sep + 1], set(fields[sep + 3].split(","))
        if fstype in ("cgroup", "cgroup2"):
            point = Path(fields[4].encode().decode("unicode_escape"))
            out.append((point, fstype, super_opts, "rw" in fields[5].split(",")))
    return out


def _controller_writable(controller: str) -> bool:
    if os.geteuid() != 0:
        return False
    for point, fstype, super_opts, rw in _cgroup_mounts():
        if not rw:
            continue
        if fstype == "cgroup" and controller in super_opts:
            return True
        if fstype == "cgroup2":
            try:
                if controller in (point / "cgroup.subtree_control").read_text().split():
                    return True
            except OSError:
                pass
    return False


@functools.cache
def supported_layers() -> frozenset[str]:
    """Every layer this machine lets the sandbox put in force (see the module docstring)."""
    layers = set(ALWAYS)
    target = tempfile.mkdtemp(prefix="rolegraph-ns-probe-")  # made and removed out here: the child's mount dies
    try:
        namespaces = shutil.which("unshare") is not None and _in_child(lambda: _namespaces_and_a_mount(target))
    finally:
        os.rmdir(target)
    if namespaces:
        layers.update(NAMESPACE_LAYERS)
    cap_eff = int(_status("CapEff") or "0", 16)
    if (os.geteuid() == 0 and cap_eff >> CAP_SETPCAP & 1) or (os.geteuid() != 0 and namespaces):
        layers.add("no-caps")
    if _status("Seccomp") is not None and platform.machine() in FILTER_MACHINES and _in_child(_allow_all_filter):
        layers.add("seccomp")
    for controller in ("pids", "memory"):
        if _controller_writable(controller):
            layers.add(f"{controller}-cgroup")
    return frozenset(layers)

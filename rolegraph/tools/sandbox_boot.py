"""First process inside the python sandbox (run as a script with `python -I -S`; stdlib only).

It joins the run's cgroups (pids, memory), and when it runs in fresh namespaces as (namespace) root
it covers the directories where sockets and other programs' files live, and the caller's `hidden` dirs
(rolegraph's state directory: the results store holds gold answers), with empty tmpfs (binding back
the working dir and the interpreter's own dirs where they sit beneath) and makes every mount
read-only except a bind of the working dir (the cgroup files too, so the code cannot raise its
limits). It reports what it observed on the status fd, forks the user's script under the rlimits with
an empty capability bounding set, no_new_privs and the seccomp filter of `seccomp.py` (no sockets, no
new namespaces; exec'd, so tracebacks show only the user's code), waits for it while reaping orphans,
and reports its exit status (a signal included). When the caller requires containment and neither a
network namespace nor the filter is in force, it reports the refusal instead and never starts the
script. It must never import rolegraph; it loads the stdlib-only `seccomp.py` beside it by path.
"""

import ctypes
import json
import os
import resource
import socket
import sys
import types

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 8, 32, 4096, 16384
MNT_DETACH = 2
KEPT_FLAGS = {2: 2, 4: 4, 8: 8, 1024: 1024, 2048: 2048, 4096: 1 << 21}  # statvfs ST_* -> mount MS_*
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 24, 38
MAX_CAP = 64
SECCOMP_MODULE = "seccomp.py"  # beside this file
IPC_NAMESPACE = "/proc/self/ns/ipc"
HIDDEN_DIRS = ("/run", "/var/run", "/tmp", "/var/tmp", "/dev/shm")  # socket files, other runs' dirs, shm
HIDING_FLAGS = MS_NOSUID | MS_NODEV | MS_NOEXEC
HIDING_OPTIONS = b"size=1m,mode=0755"  # holds only the empty dirs that bind mounts need
REFUSED_EXIT = 126  # the user's script was never started: weak containment, and the caller did not allow it


def _report(fd, **facts):
    os.write(fd, (json.dumps(facts) + "\n").encode())


def _mount_points():
    points = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            raw = line.split()[4]
            points.append(raw.encode().decode("unicode_escape"))  # \040 -> space
    return points


def _kept_dirs(workdir):
    """What must stay visible under a hidden dir: the work dir, the interpreter's installation (a venv:
    the parent of its bin/, which -S leaves out of sys.prefix), seccomp.py's dir."""
    dirs = [
        workdir,
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        os.path.dirname(os.path.dirname(sys.executable)),
        os.path.dirname(os.path.abspath(__file__)),
    ]
    both = {os.path.abspath(d) for d in dirs} | {os.path.realpath(d) for d in dirs}
    return sorted(d for d in both if os.path.isdir(d))


def _hide(libc, hidden, kept):
    """Cover `hidden` with an empty tmpfs and bind back the kept dirs beneath it; all of it or nothing."""
    if hidden in kept:
        return False
    fds, mounted = {}, False
    try:
        for k in kept:
            if k.startswith(hidden + "/"):
                fds[k] = os.open(k, os.O_PATH | os.O_DIRECTORY)  # opened before it is covered
        mounted = libc.mount(b"tmpfs", hidden.encode(), b"tmpfs", HIDING_FLAGS, HIDING_OPTIONS) == 0
        if not mounted:
            return False
        for k, fd in fds.items():
            os.makedirs(k, exist_ok=True)
            if libc.mount(f"/proc/self/fd/{fd}".encode(), k.encode(), None, MS_BIND | MS_REC, None) != 0:
                raise OSError(ctypes.get_errno(), f"cannot bind {k} back")
        return True
    except OSError:
        if mounted:
            libc.umount2(hidden.encode(), MNT_DETACH)  # never leave a kept dir (the interpreter) covered
        return False
    finally:
        for fd in fds.values():
            os.close(fd)


def _beneath(path, others):
    return any(path.startswith(other.rstrip("/") + "/") for other in others if other != path)


def _hide_dirs(libc, workdir, extra=()):
    """Hide each existing HIDDEN_DIRS and `extra` dir; True when every one of them is hidden.

    A dir beneath another one is hidden with it (once its parent is covered it no longer exists)."""
    kept = _kept_dirs(workdir)
    found = dict.fromkeys(os.path.realpath(d) for d in (*HIDDEN_DIRS, *extra) if os.path.isdir(d))
    targets = [d for d in found if d != "/" and not _beneath(d, [t for t in found if t != "/"])]
    return all([_hide(libc, d, kept) for d in targets])


def _readonly_except(libc, workdir, extra=()):
    """Bind the working dir onto itself (stays writable), hide HIDDEN_DIRS and the `extra` dirs, remount
    everything else read-only. Returns whether the dirs were hidden."""
    if libc.mount(workdir.encode(), workdir.encode(), None, MS_BIND, None) != 0:
        return False
    hidden = _hide_dirs(libc, workdir, extra)
    os.chdir(workdir)  # re-enter through the newest mount
    for point in _mount_points():
        if point == workdir:
            continue
        try:
            have = os.statvfs(point).f_flag
        except OSError:
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for st_flag, ms_flag in KEPT_FLAGS.items():
            if have & st_flag:
                flags |= ms_flag
        libc.mount(None, point.encode(), None, flags, None)
    return hidden


def _own_ipc_namespace(cfg):
    try:
        return cfg.get("host_ipc_ns") not in (None, os.stat(IPC_NAMESPACE).st_ino)
    except OSError:
        return False


def _drop_privileges(libc):
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    for cap in range(MAX_CAP):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == 22:
            break  # EINVAL: past the last capability


def _load_seccomp():
    """seccomp.py as a module, without importlib's machinery (every sandbox start pays for imports)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), SECCOMP_MODULE)
    module = types.ModuleType("rolegraph_sandbox_seccomp")
    module.__file__ = path
    with open(path) as fh:
        exec(compile(fh.read(), path, "exec"), module.__dict__)  # noqa: S102 - our own file
    return module


def _filter_syscalls():
    """Install the seccomp filter on this (the user's) process and report whether it really denies.

    Last step before the exec: the namespaces and mounts above were made by this script's parent
    process, before the fork, and the filter forbids exactly those calls."""
    try:
        module = _load_seccomp()
    except OSError as exc:
        return {"seccomp": False, "seccomp_error": f"cannot load {SECCOMP_MODULE}: {exc}"}
    try:
        module.install()
    except (module.UnsupportedMachine, OSError) as exc:
        return {"seccomp": False, "seccomp_error": str(exc)}
    return {"seccomp": module.observed_active()}


def _bounding_set_empty():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("CapBnd:"):
                return int(line.split()[1], 16) == 0
    return False


def _join_cgroups(paths):
    """Move this process (and so every process it starts) into each cgroup; the ones joined.

    Before any mount: the cgroup files are read-only afterwards. The memory already held stays
    charged where it was, so the run's cgroup counts what is allocated from here on."""
    joined = []
    for path in paths:
        try:
            with open(os.path.join(path, "cgroup.procs"), "w") as fh:
                fh.write("0")  # 0: the writing process itself (its pid may be 1 in a new PID namespace)
            joined.append(path)
        except OSError:
            pass
    return joined


def _apply_limits(limits, soft_gap):
    for name, value in limits.items():
        kind = getattr(resource, name)
        hard = resource.getrlimit(kind)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (max(value - soft_gap.get(name, 0), 1), value))


def main():
    cfg = json.loads(sys.argv[1])
    fd = cfg["status_fd"]
    libc = ctypes.CDLL(None, use_errno=True)
    joined = _join_cgroups(cfg.get("cgroups", []))
    contain = cfg.get("contain") and os.geteuid() == 0
    hidden = contain and _readonly_except(libc, cfg["workdir"], cfg.get("hidden", ()))
    names = [name for _, name in socket.if_nameindex()]
    _report(
        fd,
        started=True,
        cgroups=joined,
        pidns=os.getpid() == 1,
        netns=names == ["lo"],
        ipcns=_own_ipc_namespace(cfg),
        readonly=bool(os.statvfs("/").f_flag & os.ST_RDONLY),
        hidden_dirs=bool(hidden),
    )
    pid = os.fork()
    if pid == 0:
        _drop_privileges(libc)
        _report(fd, no_caps=_bounding_set_empty())
        filtered = _filter_syscalls()
        _report(fd, **filtered)
        if cfg.get("require_containment") and not filtered.get("seccomp") and names != ["lo"]:
            _report(fd, refused=True)  # neither a network namespace nor the filter: the code never runs
            os._exit(REFUSED_EXIT)
        os.close(fd)
        _apply_limits(cfg["limits"], cfg["soft_gap"])
        os.execv(sys.executable, [sys.executable, "-I", cfg["script"]])
    while True:
        try:
            done, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return
        if done == pid:
            _report(fd, exit=os.waitstatus_to_exitcode(status))
            return


if __name__ == "__main__":
    main()

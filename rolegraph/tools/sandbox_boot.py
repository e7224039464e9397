"""First process inside the python sandbox (run as a script with `python -I -S`; stdlib only).

It joins the pids cgroup, and when it runs in fresh namespaces as (namespace) root it makes every
mount read-only except a bind of the working dir. It reports what it observed on the status fd,
forks the user's script under the rlimits with an empty capability bounding set, no_new_privs and
the socket filter of `seccomp.py` (exec'd, so tracebacks show only the user's code), waits for it
while reaping orphans, and reports its exit status (a signal included). It must never import
rolegraph; it loads the stdlib-only `seccomp.py` beside it by path.
"""
import ctypes
import importlib.util
import json
import os
import resource
import socket
import sys

MS_RDONLY, MS_REMOUNT, MS_BIND = 1, 32, 4096
KEPT_FLAGS = {2: 2, 4: 4, 8: 8, 1024: 1024, 2048: 2048, 4096: 1 << 21}  # statvfs ST_* -> mount MS_*
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 24, 38
MAX_CAP = 64
SECCOMP_MODULE = "seccomp.py"  # beside this file


def _report(fd, **facts):
    os.write(fd, (json.dumps(facts) + "\n").encode())


def _mount_points():
    points = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            raw = line.split()[4]
            points.append(raw.encode().decode("unicode_escape"))  # \040 -> space
    return points


def _readonly_except(libc, workdir):
    """Bind the working dir onto itself (stays writable), remount everything else read-only."""
    if libc.mount(workdir.encode(), workdir.encode(), None, MS_BIND, None) != 0:
        return
    os.chdir(workdir)  # re-enter through the new mount
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


def _drop_privileges(libc):
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    for cap in range(MAX_CAP):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == 22:
            break  # EINVAL: past the last capability


def _load_seccomp():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), SECCOMP_MODULE)
    spec = importlib.util.spec_from_file_location("rolegraph_sandbox_seccomp", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _filter_sockets():
    """Install the socket filter on this (the user's) process and report whether it really denies."""
    try:
        module = _load_seccomp()
    except (OSError, ImportError) as exc:
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
    if cfg.get("cgroup"):
        with open(os.path.join(cfg["cgroup"], "cgroup.procs"), "w") as fh:
            fh.write("0")  # 0: the writing process itself (its pid may be 1 in a new PID namespace)
    if cfg.get("contain") and os.geteuid() == 0:
        _readonly_except(libc, cfg["workdir"])
    names = [name for _, name in socket.if_nameindex()]
    _report(fd, started=True, pidns=os.getpid() == 1, netns=names == ["lo"],
            readonly=bool(os.statvfs("/").f_flag & os.ST_RDONLY))
    pid = os.fork()
    if pid == 0:
        _drop_privileges(libc)
        _report(fd, no_caps=_bounding_set_empty())
        _report(fd, **_filter_sockets())
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

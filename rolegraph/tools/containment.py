"""What the python sandbox's layers protect against, and saying so: warnings for a missing layer, the
python tool's description to the model, and the refusal to run model code weakly contained.

The layers themselves are made in `isolation.py`, `sandbox_boot.py` and `seccomp.py`; what was in force
for a run is observed inside it and listed in `SandboxResult.isolation`. This module only reads lists and
keeps no record: the machine's missing layers are named by its probe, which runs once per process
(`sandbox.probe_layers`), and a run names only the layers it lacks that the probe had (`warn_lost`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from types import MappingProxyType

from rolegraph.errors import SandboxRefusedError

LAYERS = MappingProxyType(
    {
        "rlimits": "CPU time, address space, file size, open files and (as an ordinary user) processes capped",
        "process-group": "the run's process tree killed when it ends",
        "netns": "an empty network namespace: no network",
        "pidns": "a PID namespace: no other process visible, nothing outlives the run",
        "ipcns": "an IPC namespace: System V segments die with the run",
        "readonly": "every mount read-only but the run's temp dir (files stay readable)",
        "hidden-dirs": "/run, /tmp, /var/tmp, /dev/shm and rolegraph's state directory covered by empty tmpfs "
        "(no socket files, no results store or response cache in sight)",
        "no-caps": "an empty capability bounding set",
        "seccomp": "a seccomp filter: no socket of any family, no new namespace",
        "pids-cgroup": "a pids cgroup (root ignores RLIMIT_NPROC): fork bombs stopped",
        "memory-cgroup": "a memory cgroup: memory held outside the address space (memfd, tmpfs) capped",
    }
)
"""Every layer the sandbox can put in force, in the order `SandboxResult.isolation` lists them."""
MISSING = MappingProxyType(
    {
        "netns": "code can reach the network unless the seccomp filter is in force",
        "pidns": "code can see other processes (and same-user processes' /proc/<pid>/environ)",
        "ipcns": "System V segments the code makes stay in the host's namespace unless seccomp is in force",
        "readonly": "code can write anywhere ordinary file permissions allow",
        "hidden-dirs": "socket files under /run and /tmp, and rolegraph's state directory (the results store "
        "with gold answers, the response cache), are readable by model code",
        "no-caps": "the process keeps the parent's capability bounding set",
        "seccomp": "Unix sockets bound to a path are reachable and the code may create namespaces",
        "pids-cgroup": "as root, a fork bomb is stopped by the wall timeout only",
        "memory-cgroup": "memory held in memfd files or on a tmpfs is not capped",
        "rlimits": "nothing caps time or memory",
        "process-group": "leftover processes are not killed",
    }
)
"""What it means for the user when a layer is not in force (the warning's text)."""
NAMESPACE_LAYER, FILTER_LAYER = "netns", "seccomp"
ALLOW_FLAG = "--allow-weak-sandbox"
CAP_EFF_FIELD = "CapEff:"
PROC_STATUS = "/proc/self/status"
LOGGER = logging.getLogger("rolegraph.tools.sandbox")


def _has_capabilities() -> bool:
    try:
        with open(PROC_STATUS) as fh:
            for line in fh:
                if line.startswith(CAP_EFF_FIELD):
                    return int(line.split()[1], 16) != 0
    except (OSError, ValueError):
        pass
    return False


def needed_layers() -> tuple[str, ...]:
    """The layers whose absence matters for this process: all of them, but a pids cgroup only as root (an
    ordinary user's forks are capped by RLIMIT_NPROC) and an empty bounding set only with capabilities."""
    skip = set()
    if os.geteuid() != 0:
        skip.add("pids-cgroup")
    if not _has_capabilities():
        skip.add("no-caps")
    return tuple(layer for layer in LAYERS if layer not in skip)


def missing_layers(in_force: Iterable[str]) -> list[str]:
    have = set(in_force)
    return [layer for layer in needed_layers() if layer not in have]


def _say(layer: str, details: dict[str, str] | None, where: str = "") -> None:
    detail = (details or {}).get(layer, "")
    why = f" ({detail})" if detail else ""
    LOGGER.warning("python sandbox: layer '%s' is not in force%s%s: %s", layer, where, why, MISSING[layer])


def warn_missing(in_force: Iterable[str], details: dict[str, str] | None = None) -> list[str]:
    """Warn, one line per layer, about each needed layer not in force; returns them. For the probe of what this
    machine's sandbox can do, which runs once per process (`sandbox.probe_layers`): so each is said once, on
    the log the user sees, with no record of what was said kept anywhere."""
    missing = missing_layers(in_force)
    for layer in missing:
        _say(layer, details)
    return missing


def warn_lost(in_force: Iterable[str], probed: Iterable[str], details: dict[str, str] | None = None) -> list[str]:
    """Warn about each needed layer a run lacks that the probe had in force (the probe already named the
    others); returns the run's missing layers. Every such run is named: it was contained less than this
    machine's sandbox promised (a cgroup or namespace that failed for it alone)."""
    missing = missing_layers(in_force)
    had = set(probed)
    for layer in missing:
        if layer in had:
            _say(layer, details, " in this run, though it was when probed")
    return missing


def weak(in_force: Iterable[str]) -> bool:
    """Neither namespaces (no network namespace) nor the seccomp filter: nothing keeps the network out."""
    have = set(in_force)
    return NAMESPACE_LAYER not in have and FILTER_LAYER not in have


def refusal(in_force: Iterable[str], details: dict[str, str] | None = None) -> SandboxRefusedError:
    """The one-line error for model code that would run weakly contained."""
    why = "; ".join(f"{layer}: {(details or {}).get(layer) or 'not available'}" for layer in ("netns", "seccomp"))
    return SandboxRefusedError(
        f"refusing to run model code: the python sandbox has neither namespaces nor its seccomp filter here "
        f"({why}), so nothing keeps the code off the network; pass {ALLOW_FLAG} to run it under rlimits only"
    )


def describe_for_model(in_force: Iterable[str]) -> str:
    """The python tool's description, claiming only what is in force.

    The read-only mounts stop writes, not reads: the code can read most of the filesystem (system files,
    installed packages), so the description promises only that writes outside its dir fail. What is
    hidden (scratch dirs, rolegraph's state) is not the model's business and is not advertised."""
    have = set(in_force)
    claims = []
    if NAMESPACE_LAYER in have or FILTER_LAYER in have:
        claims.append("no network")
    if "readonly" in have:
        claims.append("files outside its working dir are read-only")
    claims.append("limited time and memory")
    caveat = "" if "readonly" in have else " It runs in a fresh temp dir, but files elsewhere may be writable."
    if "no network" not in claims:
        caveat += " The network is NOT blocked."
    return (
        f"Run a short Python 3 script in a sandbox ({', '.join(claims)}) and return what it prints. "
        f"Use print() for results.{caveat}"
    )

"""A seccomp-BPF filter that takes sockets and new namespaces away from the sandboxed program.

The namespaces leave two doors open. A Unix socket bound to a path ignores the network namespace,
and connect() works on a read-only mount, so code could talk to any local service whose socket file
it can see; and code may create a user namespace of its own, with every capability inside it: it
can mount a tmpfs there (whose memory no rlimit counts) and reach the kernel code that only
CAP_SYS_ADMIN reaches. No filter can read the path connect() is given or clone3's flags (both sit
behind a pointer), so the filter stops what it can see:
- socket() fails with EPERM for every address family (`SOCKET_FAMILIES_ALLOWED` is empty): Python
  needs none to start, and with the network namespace IP sockets reach nothing anyway;
- socketpair() is allowed only for AF_UNIX + SOCK_STREAM: a connected, unnamed pair that can reach
  nobody else (connect/sendto on it fail with EISCONN), which asyncio's self-pipe and
  multiprocessing.Pipe() need. Datagram pairs are refused: a Unix datagram socket can sendto() any
  path;
- clone() fails with EPERM when its flags ask for any new namespace (`CLONE_NAMESPACE_FLAGS`), and
  clone3() answers ENOSYS so glibc falls back to clone(), where the flags are visible (`CLONE3`);
- the calls of each `Denied` group below fail with its errno; each says why ordinary code loses
  nothing;
- any syscall of a foreign ABI (i386 through `int 0x80` on x86_64, x32) fails with EPERM, so the
  checks above cannot be sidestepped by another syscall table.
Everything else is allowed. Supported machines are x86_64 and aarch64; elsewhere `build_filter`
raises `UnsupportedMachine` and the sandbox reports the filter as absent (no guessed numbers).

Stdlib only: `sandbox_boot.py` (run with `python -I -S`, never importing rolegraph) loads this file
by its path.
"""

import ctypes
import errno
import os
import socket
import types

# classic BPF (linux/bpf_common.h, linux/filter.h)
BPF_LD, BPF_ALU, BPF_JMP, BPF_RET = 0x00, 0x04, 0x05, 0x06
BPF_W, BPF_ABS, BPF_K = 0x00, 0x20, 0x00
BPF_AND = 0x50
BPF_JEQ, BPF_JGE, BPF_JSET = 0x10, 0x30, 0x40
MAX_JUMP = 255  # jt/jf are one byte

# seccomp (linux/seccomp.h, linux/prctl.h)
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
DENY = SECCOMP_RET_ERRNO | errno.EPERM
ALLOW = SECCOMP_RET_ALLOW

# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]
NR_OFFSET = 0
ARCH_OFFSET = 4
ARGS_OFFSET = 16
ARG_SIZE = 8  # the low 32 bits come first on these little-endian machines; the kernel reads int args from them

AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_AARCH64 = 0xC00000B7
X32_SYSCALL_BIT = 0x40000000  # x32 ABI calls on x86_64 carry this bit in nr (and share AUDIT_ARCH_X86_64)
SOCK_TYPE_MASK = 0xF  # type without SOCK_NONBLOCK / SOCK_CLOEXEC

SOCKET_FAMILIES_ALLOWED: tuple[int, ...] = ()  # socket() families the sandboxed code keeps: none
SOCKETPAIR_ALLOWED = (int(socket.AF_UNIX), int(socket.SOCK_STREAM))

# linux/sched.h: NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET. CLONE_NEWTIME (0x80) is
# left out: in clone()'s flags those bits are the exit signal (it exists only for unshare and clone3).
CLONE_NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000


class Denied:
    """Syscalls the sandboxed program gets only an error from, and why ordinary Python loses nothing
    (a plain class: dataclasses would cost the sandbox's every start an import of inspect)."""

    def __init__(self, names: tuple[str, ...], error: int, why: str):
        self.names = names
        self.error = error
        self.why = why


NAMESPACES = Denied(
    ("unshare", "setns"),
    errno.EPERM,
    "a new user namespace hands back every capability inside it (mounts of its own, "
    "a tmpfs no rlimit counts, kernel code otherwise reserved to CAP_SYS_ADMIN); setns "
    "would join another one. Python creates no namespace; threads, fork and "
    "subprocess go through clone without CLONE_NEW* flags, which stays allowed",
)
CLONE3 = Denied(
    ("clone3",),
    errno.ENOSYS,
    "its flags sit in a struct the filter cannot read; ENOSYS (not EPERM) is what makes "
    "glibc's pthread_create and posix_spawn fall back to clone(), whose flags the filter "
    "checks, as on kernels before 5.3 (fork() and vfork() never use clone3)",
)
MOUNTS = Denied(
    (
        "mount",
        "umount2",
        "pivot_root",
        "open_tree",
        "move_mount",
        "fsopen",
        "fsconfig",
        "fsmount",
        "fspick",
        "mount_setattr",
        "open_tree_attr",
    ),
    errno.EPERM,
    "already refused without capabilities; denied outright so that no namespace the "
    "filter missed could use them. Ordinary code never mounts",
)
KEYRINGS = Denied(
    ("keyctl", "add_key", "request_key"),
    errno.EPERM,
    "kernel keyrings are not namespaced: the user keyring of uid 0 (the sandboxed "
    "program's uid when the parent is root) is the host root's. Python's stdlib never "
    "calls them",
)
BPF = Denied(
    ("bpf",),
    errno.EPERM,
    "a large kernel surface (unprivileged eBPF) that Python never uses; seccomp itself is "
    "installed through prctl, not bpf()",
)
PERF_EVENTS = Denied(
    ("perf_event_open",),
    errno.EPERM,
    "profiling counters are a kernel surface and a side channel; not used by Python "
    "(cProfile and tracemalloc work in the interpreter)",
)
USERFAULTFD = Denied(
    ("userfaultfd",),
    errno.EPERM,
    "its only common use outside live migration is stretching kernel race windows in exploits; Python never uses it",
)
IO_URING = Denied(
    ("io_uring_setup", "io_uring_enter", "io_uring_register"),
    errno.EPERM,
    "io_uring can open and connect sockets without the socket() call the filter "
    "watches; Python's stdlib does not use it",
)
SYSV_IPC = Denied(
    (
        "shmget",
        "shmat",
        "shmctl",
        "shmdt",
        "semget",
        "semop",
        "semtimedop",
        "semctl",
        "msgget",
        "msgsnd",
        "msgrcv",
        "msgctl",
    ),
    errno.EPERM,
    "System V segments outlive the process that made them and their memory counts against "
    "no rlimit; without an IPC namespace (the fallbacks) they land in the host's, beside "
    "other programs' segments. Python's multiprocessing and shared_memory use POSIX "
    "shared memory instead",
)
DENIED = (NAMESPACES, CLONE3, MOUNTS, KEYRINGS, BPF, PERF_EVENTS, USERFAULTFD, IO_URING, SYSV_IPC)

# numbers shared by every arch (the syscalls added since 5.1 have one number everywhere)
COMMON_NUMBERS = types.MappingProxyType(
    {
        "io_uring_setup": 425,
        "io_uring_enter": 426,
        "io_uring_register": 427,
        "open_tree": 428,
        "move_mount": 429,
        "fsopen": 430,
        "fsconfig": 431,
        "fsmount": 432,
        "fspick": 433,
        "clone3": 435,
        "mount_setattr": 442,
        "open_tree_attr": 467,
    }
)
X86_64_NUMBERS = types.MappingProxyType(
    {  # asm/unistd_64.h
        "socket": 41,
        "socketpair": 53,
        "clone": 56,
        "pivot_root": 155,
        "mount": 165,
        "umount2": 166,
        "add_key": 248,
        "request_key": 249,
        "keyctl": 250,
        "unshare": 272,
        "perf_event_open": 298,
        "setns": 308,
        "bpf": 321,
        "userfaultfd": 323,
        "shmget": 29,
        "shmat": 30,
        "shmctl": 31,
        "semget": 64,
        "semop": 65,
        "semctl": 66,
        "shmdt": 67,
        "msgget": 68,
        "msgsnd": 69,
        "msgrcv": 70,
        "msgctl": 71,
        "semtimedop": 220,
    }
)
AARCH64_NUMBERS = types.MappingProxyType(
    {  # asm-generic/unistd.h
        "socket": 198,
        "socketpair": 199,
        "clone": 220,
        "pivot_root": 41,
        "mount": 40,
        "umount2": 39,
        "add_key": 217,
        "request_key": 218,
        "keyctl": 219,
        "unshare": 97,
        "perf_event_open": 241,
        "setns": 268,
        "bpf": 280,
        "userfaultfd": 282,
        "msgget": 186,
        "msgctl": 187,
        "msgrcv": 188,
        "msgsnd": 189,
        "semget": 190,
        "semctl": 191,
        "semtimedop": 192,
        "semop": 193,
        "shmget": 194,
        "shmctl": 195,
        "shmat": 196,
        "shmdt": 197,
    }
)


class UnsupportedMachine(Exception):
    """No syscall table here for this machine: the filter is not built rather than built wrong."""


class Abi:
    """One machine's syscall table, as much of it as the filter needs."""

    def __init__(self, audit_arch: int, numbers: types.MappingProxyType[str, int], max_nr: int | None = None):
        self.audit_arch = audit_arch
        self.numbers = types.MappingProxyType({**COMMON_NUMBERS, **numbers})  # syscall name -> nr
        self.max_nr = max_nr  # numbers at or above this belong to another ABI on the same arch


ABIS = types.MappingProxyType(
    {  # os.uname().machine -> table
        "x86_64": Abi(AUDIT_ARCH_X86_64, X86_64_NUMBERS, max_nr=X32_SYSCALL_BIT),
        "aarch64": Abi(AUDIT_ARCH_AARCH64, AARCH64_NUMBERS),
    }
)


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


def abi_for(machine: str) -> Abi:
    try:
        return ABIS[machine]
    except KeyError:
        raise UnsupportedMachine(f"no seccomp syscall table for machine {machine!r}") from None


def _load(offset):
    return ("stmt", BPF_LD | BPF_W | BPF_ABS, offset)


def _ret(action):
    return ("stmt", BPF_RET | BPF_K, action)


def _jump(op, value, if_true, if_false):
    """A conditional jump to labels (None: the next instruction)."""
    return ("jump", BPF_JMP | op | BPF_K, value, if_true, if_false)


def _assemble(program):
    """Resolve labels (strings in the list) into the relative jumps BPF wants; returns (code, jt, jf, k)."""
    positions, instructions = {}, []
    for item in program:
        if isinstance(item, str):
            positions[item] = len(instructions)
        else:
            instructions.append(item)
    out = []
    for index, ins in enumerate(instructions):
        if ins[0] == "stmt":
            out.append((ins[1], 0, 0, ins[2]))
            continue
        _, code, value, if_true, if_false = ins
        jumps = [0 if label is None else positions[label] - index - 1 for label in (if_true, if_false)]
        if not all(0 <= j <= MAX_JUMP for j in jumps):
            raise ValueError(f"jump out of range at instruction {index}: {jumps}")
        out.append((code, jumps[0], jumps[1], value))
    return out


def _error_label(error):
    return "deny" if error == errno.EPERM else f"errno {error}"


def build_filter(machine: str) -> list[tuple[int, int, int, int]]:
    """The filter for `machine` (os.uname().machine) as (code, jt, jf, k) instructions."""
    abi = abi_for(machine)
    nr = abi.numbers
    program = [_load(ARCH_OFFSET), _jump(BPF_JEQ, abi.audit_arch, None, "deny"), _load(NR_OFFSET)]
    if abi.max_nr is not None:
        program.append(_jump(BPF_JGE, abi.max_nr, "deny", None))
    program += [
        _jump(BPF_JEQ, nr["socket"], "socket", None),
        _jump(BPF_JEQ, nr["socketpair"], "socketpair", None),
        _jump(BPF_JEQ, nr["clone"], "clone", None),
    ]
    for group in DENIED:
        program += [_jump(BPF_JEQ, nr[name], _error_label(group.error), None) for name in group.names]
    program += [_ret(ALLOW), "socket", _load(ARGS_OFFSET)]
    program += [_jump(BPF_JEQ, family, "allow", None) for family in SOCKET_FAMILIES_ALLOWED]
    family, kind = SOCKETPAIR_ALLOWED
    program += [
        _ret(DENY),
        "socketpair",
        _load(ARGS_OFFSET),
        _jump(BPF_JEQ, family, None, "deny"),
        _load(ARGS_OFFSET + ARG_SIZE),
        ("stmt", BPF_ALU | BPF_AND | BPF_K, SOCK_TYPE_MASK),
        _jump(BPF_JEQ, kind, "allow", "deny"),
        "clone",
        _load(ARGS_OFFSET),
        _jump(BPF_JSET, CLONE_NAMESPACE_FLAGS, "deny", "allow"),
    ]
    for error in sorted({group.error for group in DENIED} - {errno.EPERM}):
        program += [_error_label(error), _ret(SECCOMP_RET_ERRNO | error)]
    program += ["deny", _ret(DENY), "allow", _ret(ALLOW)]
    return _assemble(program)


def install(machine: str | None = None) -> int:
    """Install the filter on this thread (and what it execs or forks). Needs no_new_privs or CAP_SYS_ADMIN.

    Returns the number of instructions; raises UnsupportedMachine or OSError."""
    instructions = build_filter(machine or os.uname().machine)
    array = (SockFilter * len(instructions))(*[SockFilter(*ins) for ins in instructions])
    prog = SockFprog(len(instructions), array)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"seccomp filter refused: {os.strerror(code)}")
    return len(instructions)


def observed_active() -> bool:
    """True when this process runs under a filter that really denies an AF_UNIX socket and unshare()
    (of nothing: a harmless no-op without the filter) with EPERM."""
    mode = ""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("Seccomp:"):
                mode = line.split()[1]
    try:
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()
        return False
    except PermissionError:
        pass
    libc = ctypes.CDLL(None, use_errno=True)
    namespaces_denied = libc.unshare(0) != 0 and ctypes.get_errno() == errno.EPERM
    return namespaces_denied and mode == str(SECCOMP_MODE_FILTER)

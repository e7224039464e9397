"""A seccomp-BPF filter that takes sockets away from the sandboxed program.

The namespaces leave one door open: a Unix socket bound to a path ignores the network namespace,
and connect() works on a read-only mount, so code could talk to any local service whose socket file
it can see. No filter can read the path connect() is given (it sits behind a pointer), so the filter
stops the socket before it exists:
- socket() fails with EPERM for every address family (`SOCKET_FAMILIES_ALLOWED` is empty): Python
  needs none to start, and with the network namespace IP sockets reach nothing anyway;
- socketpair() is allowed only for AF_UNIX + SOCK_STREAM: a connected, unnamed pair that can reach
  nobody else (connect/sendto on it fail with EISCONN), which asyncio's self-pipe and
  multiprocessing.Pipe() need. Datagram pairs are refused: a Unix datagram socket can sendto() any
  path;
- io_uring_setup/enter/register fail with EPERM: io_uring can open and connect sockets without the
  socket() syscall the filter watches;
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
BPF_JEQ, BPF_JGE = 0x10, 0x30
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
IO_URING_SYSCALLS = (425, 426, 427)  # io_uring_setup, io_uring_enter, io_uring_register: one number on every arch
SOCK_TYPE_MASK = 0xF  # type without SOCK_NONBLOCK / SOCK_CLOEXEC

SOCKET_FAMILIES_ALLOWED: tuple[int, ...] = ()  # socket() families the sandboxed code keeps: none
SOCKETPAIR_ALLOWED = (int(socket.AF_UNIX), int(socket.SOCK_STREAM))


class UnsupportedMachine(Exception):
    """No syscall table here for this machine: the filter is not built rather than built wrong."""


class Abi:
    """One machine's syscall table, as much of it as the filter needs (a plain class: dataclasses
    would cost the sandbox's every start an import of inspect)."""

    def __init__(self, audit_arch: int, socket_nr: int, socketpair_nr: int, max_nr: int | None = None):
        self.audit_arch = audit_arch
        self.socket_nr = socket_nr
        self.socketpair_nr = socketpair_nr
        self.max_nr = max_nr  # numbers at or above this belong to another ABI on the same arch


ABIS = types.MappingProxyType({  # os.uname().machine -> table (asm/unistd_64.h, asm-generic/unistd.h)
    "x86_64": Abi(AUDIT_ARCH_X86_64, socket_nr=41, socketpair_nr=53, max_nr=X32_SYSCALL_BIT),
    "aarch64": Abi(AUDIT_ARCH_AARCH64, socket_nr=198, socketpair_nr=199),
})


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


def build_filter(machine: str) -> list[tuple[int, int, int, int]]:
    """The filter for `machine` (os.uname().machine) as (code, jt, jf, k) instructions."""
    abi = abi_for(machine)
    program = [_load(ARCH_OFFSET), _jump(BPF_JEQ, abi.audit_arch, None, "deny"), _load(NR_OFFSET)]
    if abi.max_nr is not None:
        program.append(_jump(BPF_JGE, abi.max_nr, "deny", None))
    program += [_jump(BPF_JEQ, abi.socket_nr, "socket", None),
                _jump(BPF_JEQ, abi.socketpair_nr, "socketpair", None)]
    program += [_jump(BPF_JEQ, nr, "deny", None) for nr in IO_URING_SYSCALLS]
    program += [_ret(ALLOW), "socket", _load(ARGS_OFFSET)]
    program += [_jump(BPF_JEQ, family, "allow", None) for family in SOCKET_FAMILIES_ALLOWED]
    family, kind = SOCKETPAIR_ALLOWED
    program += [_ret(DENY), "socketpair", _load(ARGS_OFFSET), _jump(BPF_JEQ, family, None, "deny"),
                _load(ARGS_OFFSET + ARG_SIZE), ("stmt", BPF_ALU | BPF_AND | BPF_K, SOCK_TYPE_MASK),
                _jump(BPF_JEQ, kind, "allow", "deny"),
                "deny", _ret(DENY), "allow", _ret(ALLOW)]
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
    """True when this process runs under a filter that really denies an AF_UNIX socket with EPERM."""
    mode = ""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("Seccomp:"):
                mode = line.split()[1]
    try:
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()
    except PermissionError:
        return mode == str(SECCOMP_MODE_FILTER)
    return False


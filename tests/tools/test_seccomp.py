"""The socket filter on its own: a real process installs it and tries every way to a socket.

Each probe runs in a fresh interpreter (a filter cannot be removed once installed), once without the
filter and once with it, so every denial below is shown to be the filter's doing, not the machine's.
"""
from __future__ import annotations

import errno
import json
import os
import subprocess
import sys

import pytest

from rolegraph.tools import seccomp

MACHINE = os.uname().machine
BPF_CLASS_MASK = 0x07  # BPF_CLASS(code)
KILLED = -1  # the probe's child died on the i386 call
needs_filter = pytest.mark.skipif(MACHINE not in seccomp.ABIS, reason=f"no syscall table for {MACHINE}")

# the same probes for both runs; each prints {name: errno or 0 (allowed)}
PROBES = r"""
import ctypes, importlib.util, json, mmap, os, socket, sys
spec = importlib.util.spec_from_file_location("seccomp_under_test", sys.argv[3])  # stdlib only, as the boot loads it
seccomp = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = seccomp
spec.loader.exec_module(seccomp)
PR_SET_NO_NEW_PRIVS = 38
I386_SOCKET_NR = 359
libc = ctypes.CDLL(None, use_errno=True)
if sys.argv[1] == "filter":
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  # as the sandbox does first
    seccomp.install()
out = {}
def attempt(name, make):
    try:
        made = make()
        for s in (made if isinstance(made, tuple) else (made,)):
            s.close()
        out[name] = 0
    except OSError as exc:
        out[name] = exc.errno
for fam, kind in (("AF_UNIX", "SOCK_STREAM"), ("AF_UNIX", "SOCK_DGRAM"), ("AF_INET", "SOCK_STREAM"),
                  ("AF_INET6", "SOCK_DGRAM"), ("AF_NETLINK", "SOCK_RAW"), ("AF_PACKET", "SOCK_RAW")):
    attempt(f"socket {fam} {kind}", lambda: socket.socket(getattr(socket, fam), getattr(socket, kind)))
attempt("socketpair stream", lambda: socket.socketpair())
attempt("socketpair stream nonblocking", lambda: socket.socketpair(type=socket.SOCK_STREAM | socket.SOCK_NONBLOCK))
attempt("socketpair dgram", lambda: socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM))
attempt("socketpair seqpacket", lambda: socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET))
def raw(nr, *args):
    fd = libc.syscall(nr, *args)
    if fd >= 0:
        libc.close(fd)
        return 0
    return ctypes.get_errno()
params = ctypes.create_string_buffer(120)  # struct io_uring_params, zeroed
out["io_uring_setup"] = raw(seccomp.IO_URING_SYSCALLS[0], 4, params)
if sys.argv[2] == "x86_64":
    x32_socket = seccomp.X32_SYSCALL_BIT | seccomp.ABIS["x86_64"].socket_nr
    out["x32 socket"] = raw(x32_socket, socket.AF_UNIX, socket.SOCK_STREAM, 0)
    # push rbx; mov eax, 359 (i386 socket); mov ebx, AF_UNIX; mov ecx, SOCK_STREAM; xor edx, edx;
    # int 0x80; pop rbx; ret -- from this 64-bit process, the kernel answers with -errno in eax
    code = bytes([0x53, 0xB8, *I386_SOCKET_NR.to_bytes(4, "little"), 0xBB, 1, 0, 0, 0, 0xB9, 1, 0, 0, 0,
                  0x31, 0xD2, 0xCD, 0x80, 0x5B, 0xC3])
    page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(code)
    call = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))
    r, w = os.pipe()
    if os.fork() == 0:  # a kernel without i386 emulation answers int 0x80 with SIGSEGV
        fd = call()
        os.write(w, str(0 if fd >= 0 else -fd).encode())
        os._exit(0)
    os.close(w)
    os.wait()
    out["i386 socket"] = int(os.read(r, 16) or -1)  # -1: killed
print(json.dumps(out))
"""


def _probe(mode: str) -> dict[str, int]:
    cmd = [sys.executable, "-I", "-S", "-c", PROBES, mode, MACHINE, seccomp.__file__]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def outcomes() -> tuple[dict[str, int], dict[str, int]]:
    return _probe("plain"), _probe("filter")


@needs_filter
def test_every_socket_family_is_denied_with_eperm(outcomes):
    plain, filtered = outcomes
    sockets = [name for name in plain if name.startswith("socket ")]
    assert len(sockets) == 6
    assert plain["socket AF_UNIX SOCK_STREAM"] == 0  # the machine itself allows them
    assert {name: filtered[name] for name in sockets} == {name: errno.EPERM for name in sockets}


@needs_filter
def test_only_connected_stream_pairs_remain(outcomes):
    plain, filtered = outcomes
    assert filtered["socketpair stream"] == 0 and filtered["socketpair stream nonblocking"] == 0
    assert plain["socketpair dgram"] == 0 and filtered["socketpair dgram"] == errno.EPERM
    assert plain["socketpair seqpacket"] == 0 and filtered["socketpair seqpacket"] == errno.EPERM


@needs_filter
def test_io_uring_is_denied(outcomes):
    plain, filtered = outcomes
    assert filtered["io_uring_setup"] == errno.EPERM  # whatever the machine allows without the filter


@pytest.mark.skipif(MACHINE != "x86_64", reason="the i386 and x32 ABIs exist only on x86_64")
def test_other_syscall_tables_cannot_sidestep_the_filter(outcomes):
    plain, filtered = outcomes
    # without the filter, int 0x80 makes a socket wherever the kernel runs i386 calls (it does here)
    if plain["i386 socket"] == KILLED:
        assert filtered["i386 socket"] in (KILLED, errno.EPERM)  # no i386 calls at all on this kernel
    else:
        assert plain["i386 socket"] in (0, errno.ENOSYS) and filtered["i386 socket"] == errno.EPERM
    assert filtered["x32 socket"] == errno.EPERM  # plain: ENOSYS unless the kernel has x32 built in


@pytest.mark.parametrize("machine", sorted(seccomp.ABIS))
def test_the_program_is_well_formed(machine):
    program = seccomp.build_filter(machine)
    assert len(program) <= seccomp.MAX_JUMP
    for index, (code, jt, jf, _) in enumerate(program):
        if code & BPF_CLASS_MASK == seccomp.BPF_JMP:  # every jump lands inside the program
            assert index + 1 + max(jt, jf) < len(program)
    last = program[-1]
    assert last[0] == seccomp.BPF_RET | seccomp.BPF_K and program[0][3] == seccomp.ARCH_OFFSET
    assert {ins[3] for ins in program if ins[0] == seccomp.BPF_RET | seccomp.BPF_K} == {seccomp.ALLOW, seccomp.DENY}


def test_an_unknown_machine_is_refused_not_guessed():
    with pytest.raises(seccomp.UnsupportedMachine, match="riscv64"):
        seccomp.build_filter("riscv64")

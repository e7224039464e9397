"""The filter on its own: a real process installs it and tries every way to a socket or a namespace.

Each probe runs in a fresh interpreter (a filter cannot be removed once installed), once without the
filter and once with it, so every denial below is shown to be the filter's doing, not the machine's.
"""
from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rolegraph.tools import seccomp

MACHINE = os.uname().machine
BPF_CLASS_MASK = 0x07  # BPF_CLASS(code)
KILLED = -1  # the probe's child died on the i386 call
USERNS_SYSCTL = "/proc/sys/user/max_user_namespaces"  # 0: no user namespaces on this machine at all
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
out["io_uring_setup"] = raw(seccomp.ABIS[sys.argv[2]].numbers["io_uring_setup"], 4, params)
if sys.argv[2] == "x86_64":
    x32_socket = seccomp.X32_SYSCALL_BIT | seccomp.ABIS["x86_64"].numbers["socket"]
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

# the namespace side: each attempt that could succeed runs in a child (the probe keeps its namespaces)
NAMESPACE_PROBES = r"""
import asyncio, concurrent.futures, ctypes, errno, importlib.util, json, multiprocessing, os, struct, subprocess, sys
import threading
spec = importlib.util.spec_from_file_location("seccomp_under_test", sys.argv[3])
seccomp = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = seccomp
spec.loader.exec_module(seccomp)
numbers = seccomp.ABIS[sys.argv[2]].numbers
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
if sys.argv[1] == "filter":
    libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS, as the sandbox does first
    seccomp.install()
SIGCHLD = 17
NEW_FLAGS = {"NEWNS": 0x00020000, "NEWCGROUP": 0x02000000, "NEWUTS": 0x04000000, "NEWIPC": 0x08000000,
             "NEWUSER": 0x10000000, "NEWPID": 0x20000000, "NEWNET": 0x40000000}
out = {}
def in_child(call):
    # 0 when call() returned >= 0 in a forked child, else its errno
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0 if call() >= 0 else ctypes.get_errno()
        os.write(w, str(code).encode())
        os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    return int(os.read(r, 16))
def reaped(pid):
    # the child of a raw clone goes on like a fork child and leaves at once; 0 or the parent's errno
    if pid == 0:
        os._exit(0)
    if pid < 0:
        return ctypes.get_errno()
    os.waitpid(pid, 0)
    return 0
def clone(flags):
    return reaped(libc.syscall(numbers["clone"], flags | SIGCHLD, 0, 0, 0, 0))  # no new stack
def clone3(flags):
    args = ctypes.create_string_buffer(struct.pack("11Q", flags, 0, 0, 0, SIGCHLD, 0, 0, 0, 0, 0, 0))
    return reaped(libc.syscall(numbers["clone3"], args, ctypes.c_size_t(len(args.raw))))
out["unshare nothing"] = in_child(lambda: libc.unshare(0))
out["unshare NEWUSER"] = in_child(lambda: libc.unshare(NEW_FLAGS["NEWUSER"]))
out["unshare NEWUSER|NEWNS"] = in_child(lambda: libc.unshare(NEW_FLAGS["NEWUSER"] | NEW_FLAGS["NEWNS"]))
out["clone plain"] = clone(0)
for name, flag in NEW_FLAGS.items():
    out[f"clone {name}"] = clone(flag)  # the namespaces are the child's: this process keeps its own
out["clone3 plain"] = clone3(0)
out["clone3 NEWUSER"] = clone3(NEW_FLAGS["NEWUSER"])
# every other denied call, with arguments that fail harmlessly without the filter: a bad pointer, fd or
# id first, zeros after (no creation flags: msgget(-1, 0) only looks a key up)
for group in seccomp.DENIED:
    for name in group.names:
        if name not in ("unshare", "clone3"):
            failed = libc.syscall(numbers[name], ctypes.c_long(-1), *[ctypes.c_long(0)] * 5) < 0
            out[f"call {name}"] = ctypes.get_errno() if failed else 0
# what ordinary code does with processes and threads
def work(name, run):
    try:
        out[f"work {name}"] = run()
    except Exception as exc:
        out[f"work {name}"] = repr(exc)
def thread():
    seen = []
    t = threading.Thread(target=seen.append, args=("ok",))
    t.start()
    t.join()
    return seen[0]
def fork():
    pid = os.fork()
    if pid == 0:
        os._exit(3)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 3 and "ok"
def pipe():
    a, b = multiprocessing.Pipe()
    a.send("ok")
    return b.recv()
def spawn():
    pid = os.posix_spawn("/bin/sh", ["sh", "-c", "exit 4"], {})
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 4 and "ok"
work("thread", thread)
work("thread pool", lambda: concurrent.futures.ThreadPoolExecutor(4).submit(lambda: "ok").result())
work("fork", fork)
work("subprocess", lambda: subprocess.run(["echo", "ok"], capture_output=True, text=True).stdout.strip())
work("posix_spawn", spawn)
work("asyncio", lambda: asyncio.run(asyncio.sleep(0, "ok")))
work("multiprocessing.Pipe", pipe)
print(json.dumps(out))
"""


def _probe(mode: str, script: str = PROBES) -> dict[str, int]:
    cmd = [sys.executable, "-I", "-S", "-c", script, mode, MACHINE, seccomp.__file__]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def outcomes() -> tuple[dict[str, int], dict[str, int]]:
    return _probe("plain"), _probe("filter")


@pytest.fixture(scope="module")
def namespace_outcomes() -> tuple[dict[str, int], dict[str, int]]:
    return _probe("plain", NAMESPACE_PROBES), _probe("filter", NAMESPACE_PROBES)


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


@needs_filter
def test_new_namespaces_are_denied_with_eperm(namespace_outcomes):
    plain, filtered = namespace_outcomes
    ways = [name for name in plain if name.startswith(("unshare ", "clone NEW"))]
    assert len(ways) == 10
    assert {name: filtered[name] for name in ways} == {name: errno.EPERM for name in ways}
    if Path(USERNS_SYSCTL).read_text().strip() != "0":  # without the filter, the probe makes a user
        assert plain["unshare NEWUSER"] == plain["unshare NEWUSER|NEWNS"] == plain["clone NEWUSER"] == 0
        if os.geteuid() == 0:  # namespace (and, as root, every kind)
            assert {plain[name] for name in ways} == {0}


@needs_filter
def test_plain_clone_stays_and_clone3_says_enosys(namespace_outcomes):
    plain, filtered = namespace_outcomes
    assert plain["clone plain"] == filtered["clone plain"] == 0  # the flag test lets a fork through
    assert plain["clone3 plain"] == 0 and plain["clone3 NEWUSER"] == 0
    assert filtered["clone3 plain"] == filtered["clone3 NEWUSER"] == errno.ENOSYS


@needs_filter
def test_every_denied_group_answers_its_errno(namespace_outcomes):
    plain, filtered = namespace_outcomes
    expected = {f"call {name}": group.error for group in seccomp.DENIED for name in group.names
                if name not in ("unshare", "clone3")}  # probed above, in a child and with flags
    assert len(expected) >= 20 and {name: filtered[name] for name in expected} == expected
    if os.geteuid() == 0:  # root passes every capability check: any EPERM here is the filter's
        assert all(plain[name] not in (errno.EPERM, errno.ENOSYS) for name in expected), plain


@needs_filter
def test_threads_and_processes_still_work_under_the_filter(namespace_outcomes):
    plain, filtered = namespace_outcomes
    work = [name for name in plain if name.startswith("work ")]
    assert len(work) == 7
    # glibc tries clone3 first for threads and spawns; ENOSYS sends it to clone(), which passes
    assert {name: filtered[name] for name in work} == {name: "ok" for name in work} == {n: plain[n] for n in work}


def test_every_group_says_why():
    names = [name for group in seccomp.DENIED for name in group.names]
    assert len(names) == len(set(names))
    assert all(len(group.why) > 40 for group in seccomp.DENIED)
    assert {group.error for group in seccomp.DENIED} == {errno.EPERM, errno.ENOSYS}
    for abi in seccomp.ABIS.values():  # every denied name has a number, and no two names share one
        assert set(names) <= set(abi.numbers) and len(set(abi.numbers.values())) == len(abi.numbers)


@pytest.mark.parametrize("machine", sorted(seccomp.ABIS))
def test_the_program_is_well_formed(machine):
    program = seccomp.build_filter(machine)
    assert len(program) <= seccomp.MAX_JUMP
    for index, (code, jt, jf, _) in enumerate(program):
        if code & BPF_CLASS_MASK == seccomp.BPF_JMP:  # every jump lands inside the program
            assert index + 1 + max(jt, jf) < len(program)
    last = program[-1]
    assert last[0] == seccomp.BPF_RET | seccomp.BPF_K and program[0][3] == seccomp.ARCH_OFFSET
    enosys = seccomp.SECCOMP_RET_ERRNO | errno.ENOSYS
    returns = {ins[3] for ins in program if ins[0] == seccomp.BPF_RET | seccomp.BPF_K}
    assert returns == {seccomp.ALLOW, seccomp.DENY, enosys}


def test_an_unknown_machine_is_refused_not_guessed():
    with pytest.raises(seccomp.UnsupportedMachine, match="riscv64"):
        seccomp.build_filter("riscv64")

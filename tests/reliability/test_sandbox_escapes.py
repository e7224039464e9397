"""The python sandbox from the attacker's side: code written to get out, and what it could not do.

tests/tools/test_sandbox.py covers the basics (env secrets, a write outside, a TCP connect, a fork
bomb, a loop, 10 GB). Here the code tries the next door: the parent's /proc, every mount, UDP and
DNS, abstract and path Unix sockets (stream and datagram, through socket() and socketpair()),
raising its own limits, forging the sandbox's status report, and a daemon that outlives the run.
tests/tools/test_seccomp.py tries the side doors of the socket filter (io_uring, the i386 and x32
syscall tables). Each check depends on the containment the run reports
(`isolation`); where a protection is missing on a machine, the test asserts the honest opposite.
"""
from __future__ import annotations

import os
import secrets
import select
import socket
from pathlib import Path

import pytest

from rolegraph.tools import isolation
from rolegraph.tools.sandbox import run_python
from rolegraph.tools.sandbox_boot import HIDDEN_DIRS

ROOT = Path(__file__).resolve().parents[2]
LISTEN_TIMEOUT_S = 8.0


@pytest.fixture(scope="module")
def probe():
    result = run_python("pass")
    assert result.ok, result
    return set(result.isolation)


def _lines(out) -> dict[str, str]:
    """`KEY rest` lines printed by the attacking script, as a dict."""
    found = {}
    for line in out.stdout.splitlines():
        key, _, rest = line.partition(" ")
        found[key] = rest
    return found


def test_parent_process_is_invisible_and_unkillable(monkeypatch, probe):
    secret = secrets.token_hex(16)
    monkeypatch.setenv("ROLEGRAPH_ESCAPE_SECRET", secret)
    me = os.getpid()
    code = (
        "import os, signal\n"
        f"pid = {me}\n"
        "try:\n    data = open(f'/proc/{pid}/environ', 'rb').read()\n    print('ENVIRON', len(data))\n"
        "except OSError as exc:\n    print('NOENVIRON', exc.strerror)\n"
        "try:\n    os.kill(pid, signal.SIGKILL)\n    print('KILLED')\n"
        "except OSError as exc:\n    print('NOKILL', exc.strerror)\n"
        "import glob\n"
        "seen = [p for p in glob.glob('/proc/[0-9]*/environ') if os.path.basename(os.path.dirname(p)) not in "
        "(str(os.getpid()), 'self')]\n"
        "hits = 0\n"
        "for p in seen:\n"
        "    try:\n        hits += SECRET.encode() in open(p, 'rb').read()\n"
        "    except OSError:\n        pass\n"
        "print('HITS', hits)\n"
    ).replace("SECRET", f"({secret[:8]!r} + {secret[8:]!r})")
    out = run_python(code)
    found = _lines(out)
    assert out.ok, out.stderr
    assert secret not in out.stdout and "HITS" in found
    if "pidns" in probe:
        assert "NOENVIRON" in found and "NOKILL" in found and found["HITS"] == "0"
    os.kill(me, 0)  # still alive either way


def test_no_mount_but_the_workdir_is_writable(tmp_path, probe):
    token = secrets.token_hex(8)
    targets = [tmp_path / f"escape-{token}", ROOT / f"escape-{token}", Path("/dev/shm") / f"escape-{token}",
               Path("/tmp") / f"escape-{token}", Path.home() / f"escape-{token}"]
    code = (
        "import os\n"
        "writable = []\n"
        "for line in open('/proc/self/mountinfo'):\n"
        "    point = line.split()[4].encode().decode('unicode_escape')\n"
        "    try:\n        if not os.statvfs(point).f_flag & os.ST_RDONLY:\n            writable.append(point)\n"
        "    except OSError:\n        pass\n"
        "print('WRITABLE', sorted(set(writable)))\n"
        "print('CWD', os.getcwd())\n"
        f"for t in {[str(t) for t in targets]!r}:\n"
        "    try:\n        open(t, 'w').write('x')\n        print('WROTE', t)\n"
        "    except OSError as exc:\n        print('REFUSED', exc.strerror)\n"
    )
    out = run_python(code)
    found = _lines(out)
    try:
        if "readonly" in probe:
            assert eval(found["WRITABLE"]) == [found["CWD"]], out.stdout  # noqa: S307 - our own repr
            assert "WROTE" not in found and not any(t.exists() for t in targets)
        else:
            assert ("WROTE" in found) == any(t.exists() for t in targets)
    finally:
        for t in targets:
            t.unlink(missing_ok=True)


def test_udp_and_dns_do_not_leave_the_sandbox(probe):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        code = (
            "import socket\n"
            "try:\n"
            "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            f"    s.sendto(b'ESCAPED', ('127.0.0.1', {port}))\n    print('SENT')\n"
            "except OSError as exc:\n    print('NOSEND', exc.strerror)\n"
            "try:\n    socket.getaddrinfo('example.com', 80)\n    print('RESOLVED')\n"
            "except OSError as exc:\n    print('NORESOLVE', exc)\n"
        )
        out = run_python(code)
        arrived = bool(select.select([server], [], [], 1.0)[0])
    found = _lines(out)
    if "netns" in probe or "seccomp" in probe:  # no socket, or one on an empty loopback: it reaches nobody
        assert not arrived and "NORESOLVE" in found and "SENT" not in found
    else:
        assert arrived == ("SENT" in found)


def test_abstract_unix_sockets_are_out_of_reach(probe):
    name = f"\0rolegraph-escape-{secrets.token_hex(6)}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(name)
        server.listen(1)
        code = ("import socket\ntry:\n    s = socket.socket(socket.AF_UNIX)\n"
                f"    s.connect({name!r})\n    print('CONNECTED')\n"
                "except OSError as exc:\n    print('BLOCKED', exc.strerror)\n")
        out = run_python(code)
        reached = bool(select.select([server], [], [], 0.5)[0])
    if "netns" in probe or "seccomp" in probe:  # abstract names live in the network namespace
        assert "BLOCKED" in _lines(out) and not reached
    else:
        assert ("CONNECTED" in _lines(out)) == reached


def _under_hidden_dir(path: Path) -> bool:
    return any(path.resolve().is_relative_to(Path(d).resolve()) for d in HIDDEN_DIRS)


def _reach_socket_file(path: Path) -> tuple[dict[str, str], bytes | None]:
    """A real service listens on `path`; sandboxed code tries to send to it. Returns what the code
    printed and what the service received (None: no connection ever arrived)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(1)
        code = ("import os, socket\n"
                f"print('VISIBLE', os.path.exists({str(path)!r}))\n"
                "try:\n    s = socket.socket(socket.AF_UNIX)\n"
                "except OSError as exc:\n    print('NOSOCKET', exc.strerror)\n    raise SystemExit\n"
                f"try:\n    s.connect({str(path)!r})\n    s.sendall(b'ESCAPED')\n    print('CONNECTED')\n"
                "except OSError as exc:\n    print('NOCONNECT', exc.strerror)\n")
        out = run_python(code)
        received = None
        if select.select([server], [], [], 0.5)[0]:  # a connection waits in the backlog even unaccepted
            conn, _ = server.accept()
            with conn:
                conn.settimeout(LISTEN_TIMEOUT_S)
                received = conn.recv(64)
    assert out.ok, out.stderr
    return _lines(out), received


def test_unix_socket_files_are_out_of_reach(tmp_path, probe, monkeypatch):
    """The docker.sock case: a service with a socket file, first with everything in force, then with
    no namespaces at all (the file in plain view), where the socket filter alone must hold."""
    found, received = _reach_socket_file(tmp_path / "service.sock")
    if "seccomp" in probe:
        assert found.get("NOSOCKET") == "Operation not permitted" and received is None
    if "hidden-dirs" in probe and _under_hidden_dir(tmp_path):
        assert found["VISIBLE"] == "False"  # under an empty tmpfs
    if not {"seccomp", "hidden-dirs"} & probe:  # documented degradation (logged)
        assert received == b"ESCAPED" and "CONNECTED" in found

    monkeypatch.setattr(isolation, "namespace_prefixes", lambda: [[]])
    found, received = _reach_socket_file(tmp_path / "plain-view.sock")
    assert found["VISIBLE"] == "True"
    if "seccomp" in probe:
        assert found.get("NOSOCKET") == "Operation not permitted" and received is None
    else:
        assert received == b"ESCAPED" and "CONNECTED" in found


def test_unix_datagram_socket_files_are_out_of_reach(tmp_path, probe):
    """Datagrams need no connection: a plain socket, a datagram pair and a stream pair each try sendto()."""
    path = tmp_path / "journal.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        code = (
            "import socket\n"
            "def plain():\n    return socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
            "def dgram_pair():\n    return socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)[0]\n"
            "def stream_pair():\n    return socket.socketpair()[0]\n"
            "for way in (plain, dgram_pair, stream_pair):\n"
            "    try:\n"
            f"        way().sendto(b'ESCAPED', {str(path)!r})\n        print(way.__name__, 'SENT')\n"
            "    except OSError as exc:\n        print(way.__name__, exc.strerror)\n"
        )
        out = run_python(code)
        arrived = bool(select.select([server], [], [], 0.5)[0])
    found = _lines(out)
    assert set(found) == {"plain", "dgram_pair", "stream_pair"}, out.stdout + out.stderr
    assert found["stream_pair"] != "SENT"  # a connected pair refuses another address (EISCONN)
    if "seccomp" in probe:
        assert found["plain"] == found["dgram_pair"] == "Operation not permitted" and not arrived
    else:
        assert arrived == ("SENT" in found.values())


def test_limits_cannot_be_raised_from_inside(probe):
    code = (
        "import resource\n"
        "for name in ('RLIMIT_AS', 'RLIMIT_NPROC', 'RLIMIT_CPU', 'RLIMIT_FSIZE'):\n"
        "    kind = getattr(resource, name)\n"
        "    try:\n"
        "        resource.setrlimit(kind, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n"
        "        print('RAISED', name)\n"
        "    except (ValueError, OSError):\n        print('KEPT', name)\n"
        "x = bytearray(1024 ** 3)\n"
        "print('ALLOCATED')\n"
    )
    out = run_python(code, memory_mb=256)
    assert "RAISED" not in out.stdout and out.stdout.count("KEPT") == 4, out.stdout
    assert "ALLOCATED" not in out.stdout and "MemoryError" in out.stderr


def test_the_status_report_cannot_be_forged(probe):
    """The boot process reports the exit status on an fd; the user's code must not write a fake one."""
    code = (
        "import glob, os\n"
        "forged = 0\n"
        "for fd in glob.glob('/proc/[0-9]*/fd/*'):\n"
        "    if fd.split('/')[2] == str(os.getpid()):\n        continue  # its own stdout is fine\n"
        "    try:\n        f = os.open(fd, os.O_WRONLY | os.O_APPEND)\n"
        "        os.write(f, b'{\"exit\": 0}\\n')\n        forged += 1\n"
        "    except OSError:\n        pass\n"
        "print('FORGED', forged)\n"
        "raise SystemExit(7)\n"
    )
    out = run_python(code)
    assert out.exit_code == 7, (out.exit_code, out.stdout)
    if "no-caps" in probe:
        assert _lines(out).get("FORGED") == "0", out.stdout


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def test_a_daemon_that_leaves_the_process_group_does_not_outlive_the_run(probe):
    marker = f"rolegraph-daemon-{secrets.token_hex(6)}"
    code = (
        "import os, subprocess, sys\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        f"        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(120)', {marker!r}])\n"
        "    os._exit(0)\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)', {marker!r}],"
        " start_new_session=True)\n"
        "print('SPAWNED')\n"
    )
    out = run_python(code, timeout_s=10)
    assert "SPAWNED" in out.stdout, out.stderr
    left = _processes_with(marker)
    for pid in left:  # never leave them behind, even when the assertion below fails
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    if "pidns" in probe or "pids-cgroup" in probe:
        assert left == []


def test_spawned_programs_see_no_secret_and_respect_the_process_cap(monkeypatch, probe):
    secret = secrets.token_hex(16)
    monkeypatch.setenv("ROLEGRAPH_ESCAPE_SECRET", secret)
    code = (
        "import subprocess\n"
        "env = subprocess.run(['sh', '-c', 'env; cat /proc/1/environ 2>/dev/null'], capture_output=True).stdout\n"
        "print('ENV', len(env))\n"
        "import sys\n"
        "sys.stdout.write(env.decode(errors='replace').replace(chr(10), ' ') + chr(10))\n"
        "procs, refused = [], 0\n"
        "for _ in range(40):\n"
        "    try:\n        procs.append(subprocess.Popen(['sleep', '5']))\n"
        "    except OSError:\n        refused += 1\n"
        "print('STARTED', len(procs))\n"
        "print('REFUSED', refused)\n"
    )
    out = run_python(code, max_procs=8, timeout_s=10)
    found = _lines(out)
    assert secret not in out.stdout and "ROLEGRAPH_ESCAPE_SECRET" not in out.stdout
    assert int(found["ENV"]) > 0
    if "pids-cgroup" in probe or os.geteuid() != 0:
        assert int(found["STARTED"]) < 8 and int(found["REFUSED"]) > 0, out.stdout

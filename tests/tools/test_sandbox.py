"""The sandbox contains what it claims to contain, and says what it could not.

Each run reports the containment that was in force (`isolation`); where a protection is missing
on a machine, the test asserts the honest opposite instead of skipping silently.
"""
from __future__ import annotations

import asyncio
import json
import os
import secrets
import select
import tempfile
import socket
import sys
from pathlib import Path

import pytest

from rolegraph.tools import containment, isolation, sandbox
from rolegraph.tools.sandbox import MAX_OUTPUT_CHARS, PythonTool, arun_python, run_python
from rolegraph.tools.sandbox_boot import HIDDEN_DIRS
from tests.sandbox_support import supported_layers

BOMB_PROCS = 8  # a deliberately small process budget for the fork-bomb test
MB = 1024 * 1024
DISK_FILES, DISK_FILE_MB, DISK_BUDGET_MB = 12, 16, 64  # 192 MB of files beside a 64 MB budget


@pytest.fixture(scope="module")
def supported() -> frozenset[str]:
    """What this machine lets the sandbox enforce, read from the kernel and /proc by the tests' own probes
    (tests/sandbox_support.py), never from the sandbox's report: a lost layer fails the checks below."""
    return supported_layers()


def test_every_layer_this_machine_supports_is_in_force(supported):
    out = run_python("pass")
    assert out.ok, out
    assert supported <= set(out.isolation), sorted(supported - set(out.isolation))
    assert set(out.missing) == set(containment.needed_layers()) - supported  # it names what the machine lacks


def _under_hidden_dir(path: Path) -> bool:
    return any(path.resolve().is_relative_to(Path(d).resolve()) for d in HIDDEN_DIRS)


def _processes_in(directory: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "cwd").startswith(directory):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def test_runs_code_with_stdin_and_exit_code():
    out = run_python("import sys\nprint(sys.stdin.read().upper())\nsys.exit(3)", stdin="abc")
    assert out.stdout == "ABC\n" and out.exit_code == 3 and not out.ok
    assert not out.timed_out and not out.killed and out.reason is None


def test_workdir_is_fresh_writable_and_removed_after():
    out = run_python("import os\nopen('f.txt', 'w').write('x')\nprint(os.getcwd())\nprint(sorted(os.listdir()))")
    cwd, listing = out.stdout.splitlines()
    assert out.ok and listing == "['f.txt', 'main.py']"
    assert not Path(cwd).exists()


def test_infinite_loop_is_stopped_at_the_wall_timeout():
    out = run_python("while True:\n    pass", timeout_s=1)
    assert out.timed_out and out.killed and out.exit_code is None
    assert "wall timeout" in out.reason


def test_cpu_limit_kills_a_busy_loop_before_the_wall_timeout():
    out = run_python("while True:\n    pass", timeout_s=30, cpu_s=1)
    assert not out.timed_out and out.killed
    assert out.exit_code in (-24, -9)  # SIGXCPU at the soft limit, SIGKILL at the hard one
    assert "CPU" in out.reason or "SIGKILL" in out.reason


def test_ten_gigabyte_allocation_fails():
    out = run_python("x = bytearray(10 * 1024 ** 3)\nprint('allocated')", memory_mb=256)
    assert out.exit_code not in (0, None) and "allocated" not in out.stdout
    assert "MemoryError" in out.stderr and "memory" in out.reason
    assert out.oom_kills == 0  # RLIMIT_AS refuses it first: a clean MemoryError, not a kill


def test_fork_bomb_is_contained_and_leaves_nothing_behind(supported):
    if os.geteuid() == 0 and "pids-cgroup" not in supported:
        pytest.skip("as root RLIMIT_NPROC does not apply and no pids cgroup is available: "
                    "a fork bomb would not be contained on this machine")
    code = (
        "import os\n"
        "print(os.getcwd(), flush=True)\n"
        "refused = False\n"
        "while True:\n"
        "    try:\n"
        "        os.fork()\n"
        "    except OSError:\n"
        "        if not refused:\n"
        "            refused = True\n"
        "            print('fork refused', flush=True)\n"
    )
    out = run_python(code, timeout_s=3, max_procs=BOMB_PROCS)
    lines = out.stdout.splitlines()
    assert out.timed_out and out.killed
    # every process prints once when its fork is refused: the count bounds how many ever existed
    assert 1 <= lines.count("fork refused") <= BOMB_PROCS
    assert _processes_in(lines[0]) == []
    assert run_python("print('still fine')").stdout == "still fine\n"
    assert not [p for base in isolation.CGROUP_BASES for p in base.glob(f"{isolation.CGROUP_PREFIX}{os.getpid()}-*")]


def test_parent_secret_is_not_readable(monkeypatch, supported):
    secret = secrets.token_hex(16)
    monkeypatch.setenv("ROLEGRAPH_TEST_SECRET", secret)
    code = (
        "import os\n"
        "print(sorted(os.environ))\n"
        "hits = []\n"
        "for pid in os.listdir('/proc'):\n"
        "    try:\n"
        "        if SECRET.encode() in open(f'/proc/{pid}/environ', 'rb').read():\n"
        "            hits.append(pid)\n"
        "    except (OSError, ValueError):\n"
        "        pass\n"
        "print('found in', hits)\n"
    ).replace("SECRET", f"({secret[:8]!r} + {secret[8:]!r})")  # the script never holds it whole
    out = run_python(code)
    assert out.ok, (out.stderr, out.exit_code)
    keys, found = out.stdout.splitlines()
    assert out.ok and secret not in out.stdout
    assert "ROLEGRAPH_TEST_SECRET" not in keys
    assert set(eval(keys)) <= set(sandbox._environment(Path("/x")))  # nothing but the minimal env
    if "pidns" in supported:
        assert found == "found in []"  # no other process's /proc/<pid>/environ is even visible
    else:  # documented limitation: a same-user process can read its parent's /proc environ
        assert found.startswith("found in")


def test_writes_outside_the_workdir(tmp_path, supported):
    target = tmp_path / "outside.txt"
    code = (f"try:\n    open({str(target)!r}, 'w').write('escaped')\n    print('WROTE')\n"
            "except OSError as exc:\n    print('BLOCKED', exc.strerror)\n")
    out = run_python(code)
    if "hidden-dirs" in supported and _under_hidden_dir(target):
        assert out.stdout.startswith("BLOCKED No such file or directory") and not target.exists()
    elif "readonly" in supported:
        assert out.stdout.startswith("BLOCKED Read-only file system") and not target.exists()
    else:  # documented limitation without a private mount table: ordinary file permissions only
        assert out.stdout.startswith("WROTE") == target.exists()


def test_socket_and_scratch_dirs_are_hidden(tmp_path, supported):
    marker = tmp_path / "marker.txt"
    marker.write_text("visible")
    code = ("import json, os\n"
            f"print(json.dumps({{d: sorted(os.listdir(d)) for d in {list(HIDDEN_DIRS)!r} if os.path.isdir(d)}}))\n"
            f"print(os.path.exists({str(marker)!r}))\nprint(os.getcwd())\n")
    out = run_python(code)
    assert out.ok, out.stderr
    listings, marker_seen, cwd = out.stdout.splitlines()
    if "hidden-dirs" not in supported:
        assert marker_seen == "True"
        return
    root = Path(sys.executable).parent.parent  # the interpreter's installation (a venv here)
    for hidden, inside in json.loads(listings).items():
        # only the way down to the work dir or the interpreter's installation is left
        kept = [p for p in (Path(cwd), root, root.resolve()) if p.is_relative_to(hidden) and p != Path(hidden)]
        assert set(inside) <= {p.relative_to(hidden).parts[0] for p in kept}, (hidden, inside)
    assert marker_seen == str(not _under_hidden_dir(marker))


GOLD = "the-gold-answer-" + secrets.token_hex(4)
READ_STATE = (
    "import os, sqlite3\n"
    "for path in (STORE, HOME):\n"
    "    try:\n"
    "        if path == STORE:\n"
    "            print(sqlite3.connect(f'file:{path}?mode=ro', uri=True).execute('SELECT gold FROM items').fetchall())\n"
    "        else:\n"
    "            print(sorted(os.listdir(path)))\n"
    "    except (OSError, sqlite3.Error) as exc:\n"
    "        print('BLOCKED', type(exc).__name__)\n"
    "print('still works', 6 * 7)\n"
)


@pytest.fixture
def state_home(monkeypatch):
    """A state directory with a results store holding a gold answer, where a user's is (under the home dir,
    ~/.rolegraph by default), not under /tmp, which the sandbox hides anyway. $ROLEGRAPH_HOME names it."""
    import shutil
    import sqlite3

    base = Path.home()
    if _under_hidden_dir(base) or not os.access(base, os.W_OK):
        pytest.skip(f"needs a writable home dir outside {HIDDEN_DIRS} to stand for ~/.rolegraph")
    home = Path(tempfile.mkdtemp(prefix=".rolegraph-test-", dir=base))
    with sqlite3.connect(home / "results.sqlite") as db:
        db.execute("CREATE TABLE items (item_id TEXT, gold TEXT)")
        db.execute("INSERT INTO items VALUES ('q1', ?)", (GOLD,))
    db.close()
    (home / "cache.sqlite").write_text("cached replies")
    monkeypatch.setenv("ROLEGRAPH_HOME", str(home))
    yield home
    shutil.rmtree(home, ignore_errors=True)


def _read_state_code(home: Path) -> str:
    return READ_STATE.replace("STORE", repr(str(home / "results.sqlite"))).replace("HOME", repr(str(home)))


def test_the_state_directory_is_hidden_from_model_code(state_home, supported):
    """A user probe: model code read results.sqlite (items.gold: gold answers) under $ROLEGRAPH_HOME. The state
    dir is now covered like /tmp; the sandbox still runs the code."""
    out = run_python(_read_state_code(state_home))
    assert out.ok, out.stderr
    store, listing, works = out.stdout.splitlines()
    assert works == "still works 42"
    if "hidden-dirs" in supported:
        assert GOLD not in out.stdout and "hidden-dirs" in out.isolation
        assert store.startswith("BLOCKED") and listing == "[]"  # an empty tmpfs where the state was
    else:  # no private mount table here: readable, and the run says the layer is missing (a warning too)
        assert GOLD in store and "hidden-dirs" in out.missing


def test_the_python_tool_hides_its_settings_state_dir_too(state_home, monkeypatch, tmp_path, supported):
    """`PythonTool(state_dir=settings.home)`: hidden even when $ROLEGRAPH_HOME names another directory."""
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "elsewhere"))
    res = asyncio.run(PythonTool(state_dir=state_home).call(code=_read_state_code(state_home)))
    assert res.ok and "still works 42" in res.text
    assert (GOLD in res.text) == ("hidden-dirs" not in supported)
    assert sandbox.state_dirs([state_home])[0] == str(tmp_path / "elsewhere")


def test_a_state_dir_under_tmp_keeps_the_hiding_in_force(tmp_path, supported):
    """A state dir beneath a hidden dir (tests put $ROLEGRAPH_HOME under /tmp) is covered with it; trying to
    cover it again, after /tmp is gone, must not turn the whole layer off."""
    home = tmp_path / "state"
    home.mkdir()
    out = run_python(f"import os\nprint(os.path.exists({str(home)!r}))", hidden_dirs=[home])
    assert out.ok, out.stderr
    if "hidden-dirs" in supported:
        assert out.stdout == "False\n" and "hidden-dirs" in out.isolation


def test_network_to_a_loopback_server(supported):
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        code = ("import socket\ntry:\n"
                f"    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n    print('CONNECTED')\n"
                "except OSError as exc:\n    print('BLOCKED', exc)\n")
        out = run_python(code)
        # a completed handshake waits in the listen backlog: readable means the child got through
        reached = bool(select.select([server], [], [], 0)[0])
    if bool({"netns", "seccomp"} & supported):
        assert out.stdout.startswith("BLOCKED") and not reached
    else:  # documented limitation: no network namespace available here
        assert out.stdout.startswith("CONNECTED") and reached


def test_capabilities_are_dropped(supported):
    out = run_python("print([l.split()[1] for l in open('/proc/self/status') if l.startswith(('CapEff', 'CapBnd'))])")
    effective, bounding = eval(out.stdout)  # noqa: S307 - our own repr
    if "no-caps" in supported:
        assert (effective, bounding) == ("0000000000000000", "0000000000000000") and "no-caps" in out.isolation
    elif os.geteuid() != 0:
        assert effective == "0000000000000000"  # an ordinary user has none anyway
    else:  # root that cannot drop them (no CAP_SETPCAP): the run must not claim it did
        assert "no-caps" not in out.isolation and int(bounding, 16) != 0


def test_output_is_capped():
    out = run_python(f"print('x' * {MAX_OUTPUT_CHARS * 3})")
    assert out.ok and "truncated" in out.stdout
    assert len(out.stdout) < MAX_OUTPUT_CHARS + 100


def test_file_size_limit():
    out = run_python("open('big', 'wb').write(b'0' * (3 * 1024 * 1024))\nprint('written')", max_file_mb=1)
    assert out.exit_code not in (0, None) and "written" not in out.stdout
    assert "File too large" in out.stderr or "file size" in (out.reason or "")


def test_falls_back_to_rlimits_without_namespaces_or_cgroup(monkeypatch, supported):
    monkeypatch.setattr(isolation, "namespace_prefixes", lambda: [[]])
    monkeypatch.setattr(isolation.PidsCgroup, "create", classmethod(lambda cls, n: None))
    monkeypatch.setattr(isolation.MemoryCgroup, "create", classmethod(lambda cls, n: None))
    monkeypatch.setenv("ROLEGRAPH_TEST_SECRET", "s3cr3t")
    out = run_python("import os\nprint(os.environ.get('ROLEGRAPH_TEST_SECRET'))")
    assert out.ok and out.stdout == "None\n"
    assert out.isolation[:2] == ["rlimits", "process-group"]
    assert not {"netns", "pidns", "ipcns", "readonly", "pids-cgroup", "memory-cgroup"} & set(out.isolation)
    assert ("seccomp" in out.isolation) == ("seccomp" in supported)  # the filter needs no namespace
    looped = run_python("while True:\n    pass", timeout_s=1)
    assert looped.timed_out and looped.killed


def test_without_a_network_namespace_the_filter_still_keeps_the_network_out(monkeypatch, supported):
    monkeypatch.setattr(isolation, "namespace_prefixes", lambda: [[]])
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        out = run_python("import socket\ntry:\n"
                         f"    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n    print('CONNECTED')\n"
                         "except OSError as exc:\n    print('BLOCKED', exc.strerror)\n")
        reached = bool(select.select([server], [], [], 0)[0])
    assert "netns" not in out.isolation and out.network_blocked == ("seccomp" in out.isolation)
    if "seccomp" in supported:
        assert out.stdout == "BLOCKED Operation not permitted\n" and not reached
    else:  # documented limitation: nothing but ordinary networking here
        assert out.stdout.startswith("CONNECTED") and reached


SOCKET_FAMILIES = ("AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET")


def test_the_socket_filter_denies_every_family(supported):
    code = (
        "import socket\n"
        f"for fam in {SOCKET_FAMILIES!r}:\n"
        "    try:\n        socket.socket(getattr(socket, fam), socket.SOCK_RAW if fam == 'AF_PACKET' else "
        "socket.SOCK_DGRAM).close()\n        print(fam, 'OPENED')\n"
        "    except OSError as exc:\n        print(fam, exc.strerror)\n"
    )
    out = run_python(code)
    assert out.ok, out.stderr
    seen = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    assert list(seen) == list(SOCKET_FAMILIES)
    if "seccomp" in supported:
        assert set(seen.values()) == {"Operation not permitted"}
    else:  # documented degradation (a warning is logged): Unix sockets can be made and connected
        assert seen["AF_UNIX"] == "OPENED"


def test_ordinary_code_still_works_under_the_filter(supported):
    code = (
        "import asyncio, json, math, multiprocessing, os, subprocess, sys, tempfile, threading\n"
        "data = json.loads(sys.stdin.read())\n"
        "with open('out.json', 'w') as fh:\n    json.dump({'sqrt': math.isqrt(data['n'])}, fh)\n"
        "print(json.load(open('out.json'))['sqrt'])\n"
        "print(asyncio.run(asyncio.sleep(0, 'async')))  # its self-pipe is a socketpair\n"
        "a, b = multiprocessing.Pipe()\na.send([1, 2])\nprint(b.recv())\n"
        "t = threading.Thread(target=print, args=('thread',))\nt.start()\nt.join()\n"
        "print(subprocess.run(['echo', 'child'], capture_output=True, text=True).stdout.strip())\n"
        "with tempfile.NamedTemporaryFile() as fh:\n    print(os.path.dirname(fh.name) == os.getcwd())\n"
    )
    out = run_python(code, stdin='{"n": 1000001}')
    assert out.ok, out.stderr
    assert out.stdout.splitlines() == ["1000", "async", "[1, 2]", "thread", "child", "True"]


def test_a_run_without_the_filter_says_so(tmp_path, monkeypatch, caplog, request):
    """A boot script without seccomp.py beside it stands in for a kernel or machine without the filter."""
    sandbox.probe_layers.cache_clear()  # the probe (which names a machine's missing layers) made under it too
    request.addfinalizer(sandbox.probe_layers.cache_clear)
    boot = tmp_path / "sandbox_boot.py"
    boot.write_text(sandbox.BOOT_SCRIPT.read_text())
    monkeypatch.setattr(sandbox, "BOOT_SCRIPT", boot)
    out = run_python("import socket\nsocket.socket(socket.AF_UNIX).close()\nprint('made')")
    assert out.ok and out.stdout == "made\n"
    assert "seccomp" not in out.isolation and not out.sockets_blocked and "seccomp" in out.missing
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert [m for m in warned if "'seccomp' is not in force" in m and "seccomp.py" in m and "Unix sockets" in m]


def test_async_runs_concurrently_and_the_tool_wraps_it():
    async def both():
        return await asyncio.gather(arun_python("print(6*7)"), PythonTool().call(code="print(1/0)"))

    out, failed = asyncio.run(both())
    assert out.ok and out.stdout == "42\n"
    assert not failed.ok and "ZeroDivisionError" in failed.text
    ok = asyncio.run(PythonTool().call(code="print(sum(range(10)))"))
    assert ok.ok and ok.text.strip() == "45" and ok.data["exit_code"] == 0


MEMORY_CGROUP_OF_SELF = r"""
import os
for line in open('/proc/self/cgroup'):
    num, controllers, path = line.rstrip('\n').split(':', 2)
    if 'memory' in controllers.split(','):
        where = f'/sys/fs/cgroup/memory{path}'
        print(where, open(f'{where}/memory.limit_in_bytes').read().strip())
    elif controllers == '' and os.path.exists(f'/sys/fs/cgroup{path}/memory.max'):
        where = f'/sys/fs/cgroup{path}'
        print(where, open(f'{where}/memory.max').read().strip())
"""


def _our_memory_cgroups() -> list[Path]:
    return [p for parent, _ in isolation._memory_parents()
            for p in parent.glob(f"{isolation.CGROUP_PREFIX}{os.getpid()}-*")]


def test_memory_cgroup_caps_the_run_and_is_removed(supported):
    out = run_python(MEMORY_CGROUP_OF_SELF, memory_mb=200)
    assert out.ok, out.stderr
    if "memory-cgroup" not in supported:  # not root, or no writable memory controller
        assert isolation.CGROUP_PREFIX not in out.stdout and "memory-cgroup" not in out.isolation
        return
    where, limit = out.stdout.split()
    assert Path(where).name.startswith(f"{isolation.CGROUP_PREFIX}{os.getpid()}-")
    assert int(limit) == (200 + sandbox.BOOT_MEMORY_MB) * MB
    assert not Path(where).exists() and _our_memory_cgroups() == []
    assert out.oom_kills == 0 and out.reason is None


def test_stale_memory_cgroups_are_swept_and_none_is_left(supported):
    if "memory-cgroup" not in supported:
        pytest.skip("no memory cgroup on this machine (the fallback is tested above)")
    parent = isolation._memory_parents()[0][0]
    stale = parent / f"{isolation.CGROUP_PREFIX}{2 ** 22 + 1}-feedfacecafe"  # above any pid: its owner is gone
    stale.mkdir()
    try:
        assert run_python("print('ok')").stdout == "ok\n"
        assert not stale.exists()
    finally:
        isolation._rmdir_quietly(stale)
    assert _our_memory_cgroups() == []


def _fs_type(path: Path) -> str:
    """The type of the filesystem `path` is on (the longest mount point above it)."""
    best, kind = "", ""
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        point = fields[4].encode().decode("unicode_escape")
        if path.resolve().is_relative_to(point) and len(point) >= len(best):
            best, kind = point, fields[fields.index("-") + 1]
    return kind


def test_files_on_disk_beyond_the_budget_are_not_memory(supported):
    """Page cache is charged to the cgroup too, but reclaimable: writing more file data than the
    budget must not kill ordinary code (unless the work dir is on a tmpfs, where files are memory)."""
    code = (f"for i in range({DISK_FILES}):\n"
            f"    with open(f'f{{i}}', 'wb') as fh:\n        fh.write(b'x' * {DISK_FILE_MB * MB})\n"
            "print('written')\n")
    out = run_python(code, memory_mb=DISK_BUDGET_MB, timeout_s=60)
    if "memory-cgroup" in out.isolation and _fs_type(Path(tempfile.gettempdir())) == "tmpfs":
        assert out.oom_kills > 0 and "memory limit" in out.reason
    else:
        assert out.ok and out.stdout == "written\n" and out.oom_kills == 0, out


def _fake_v2_tree(root: Path, own: str) -> Path:
    """A directory shaped like a cgroup v2 mount: memory enabled for the root's children, not for
    the caller's own (leaf) cgroup."""
    for d, subtree in ((root, "memory pids"), (root / own.strip("/"), "")):
        d.mkdir(parents=True, exist_ok=True)
        (d / "cgroup.procs").write_text("")
        (d / "cgroup.subtree_control").write_text(subtree)
    (root / "cgroup.controllers").write_text("cpu memory pids")
    proc_cgroup = root.parent / "proc-self-cgroup"
    proc_cgroup.write_text(f"0::{own}\n")
    return proc_cgroup


@pytest.mark.skipif(os.geteuid() != 0, reason="a memory cgroup is only made as root")
def test_cgroup_v2_gets_memory_max_where_its_parent_delegates_memory(tmp_path, monkeypatch):
    """cgroup v2 on a filesystem laid out like one (this machine's memory controller is on v1):
    the leaf the caller runs in cannot have children with memory.max, so the root is used."""
    root = tmp_path / "cgroup"
    monkeypatch.setattr(isolation, "PROC_CGROUP", _fake_v2_tree(root, "/system.slice/app.service"))
    monkeypatch.setattr(isolation, "MEMORY_V1_BASE", tmp_path / "no-v1")
    monkeypatch.setattr(isolation, "CGROUP_V2_BASES", (root,))
    assert isolation._memory_parents() == [(root, True)]
    made = isolation.MemoryCgroup.create(64 * MB)
    assert made is not None and made.v2 and made.path.parent == root
    assert (made.path / "memory.max").read_text() == str(64 * MB)
    assert not (made.path / "memory.swap.max").exists()  # only written where the kernel offers it
    (made.path / "memory.events").write_text("low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\n")
    assert made.oom_kills() == 2
    for f in made.path.iterdir():  # a real cgroupfs removes its files with the dir
        f.unlink()
    made.remove()
    assert not made.path.exists()

    (root / "cgroup.subtree_control").write_text("pids")  # memory not delegated anywhere: none
    assert isolation._memory_parents() == [] and isolation.MemoryCgroup.create(64 * MB) is None

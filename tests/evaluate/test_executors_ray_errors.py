"""A Ray address the user got wrong is one line and exit code 2 through the real CLI, and an address where
nothing answers is given up on within the executor's named connect timeout (Ray itself retries for minutes).

No Ray cluster is started: every address here fails before or inside ray.init (a port that must pass the
address check is a gRPC server with no services, the transport Ray speaks)."""

from __future__ import annotations

import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from rolegraph.cli import main
from rolegraph.errors import RolegraphError
from rolegraph.evaluate import ray_address
from rolegraph.evaluate.executors import RayExecutor, make_executor, shown_address
from tests.evaluate.ray_stand_in import ray_stand_in

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'rolegraph[ray]')")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "graphs"
EVAL = ["eval", str(EXAMPLES / "single.yaml"), "--task", "gsm", "--n", "8", "--executor", "ray"]
OPTIMIZE = ["optimize", "--task", "gsm", "--task-size", "60", "--iterations", "2", "--samples", "2", "--batch", "4",
            "--validation-items", "4", "--test-items", "6", "--max-nodes", "4", "--executor", "ray"]
RETURN_BOUND_S = 90  # far above the patched timeout plus startup; a hang in ray.init lasts minutes


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert not ray.is_initialized()  # these tests are about joining a cluster, so none may be joined yet


def run_cli(argv: list[str], capsys) -> tuple[int, list[str]]:
    """(exit code, stderr lines) of `rolegraph ARGV`, run in a thread that must return within RETURN_BOUND_S."""
    outcome: dict[str, object] = {}

    def go() -> None:
        try:
            main(argv)
            outcome["code"] = 0
        except SystemExit as exc:
            outcome["code"] = exc.code
        except BaseException as exc:  # noqa: BLE001 - a traceback is what the test reports
            outcome["code"] = f"raised {type(exc).__name__}: {exc}"

    worker = threading.Thread(target=go, daemon=True)
    worker.start()
    worker.join(RETURN_BOUND_S)
    assert not worker.is_alive(), f"rolegraph {' '.join(argv)} did not return within {RETURN_BOUND_S} s"
    err = capsys.readouterr().err
    return outcome["code"], [line for line in err.splitlines() if line.strip()]  # type: ignore[return-value]


def one_error_line(argv: list[str], capsys) -> str:
    code, lines = run_cli(argv, capsys)
    assert code == 2, (code, lines)
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


@pytest.fixture
def silent_port():
    """A local port whose accept queue is full: a new connection gets no answer (as from a firewalled host)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port), timeout=2)
    try:
        with pytest.raises(TimeoutError):  # the premise: this port really does not answer
            socket.create_connection(("127.0.0.1", port), timeout=0.2)
        yield port
    finally:
        filler.close()
        listener.close()


@pytest.fixture
def refused_port():
    """A local port nothing listens on (bound, then closed)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def test_client_address_without_the_client_package(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "grpc", None)  # as after `pip install ray` without [client]
    line = one_error_line([*EVAL, "--ray-address", "ray://127.0.0.1:10001"], capsys)
    assert "'ray://127.0.0.1:10001'" in line and "grpcio" in line and "rolegraph[ray]" in line


def test_client_address_never_prints_its_credentials(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "grpc", None)
    line = one_error_line([*EVAL, "--ray-address", "ray://alice:s3cr3t@127.0.0.1:10001?token=abc123"], capsys)
    assert "127.0.0.1:10001" in line
    assert "s3cr3t" not in line and "abc123" not in line and "alice" not in line


def test_refused_address_is_one_line(capsys, refused_port):
    line = one_error_line([*EVAL, "--ray-address", f"127.0.0.1:{refused_port}"], capsys)
    assert f"cannot reach the Ray cluster at '127.0.0.1:{refused_port}'" in line


def test_silent_address_gives_up_within_the_named_timeout(capsys, monkeypatch, silent_port):
    monkeypatch.setattr(ray_address, "RAY_CONNECT_TIMEOUT_S", 0.5)
    line = one_error_line([*EVAL, "--ray-address", f"127.0.0.1:{silent_port}"], capsys)
    assert f"'127.0.0.1:{silent_port}'" in line and "no answer" in line and "0.5 s" in line


def test_silent_client_address_gives_up_too(capsys, monkeypatch, silent_port):
    pytest.importorskip("grpc", reason="the Ray client package is not installed")
    monkeypatch.setattr(ray_address, "RAY_CONNECT_TIMEOUT_S", 0.5)
    line = one_error_line([*EVAL, "--ray-address", f"ray://127.0.0.1:{silent_port}"], capsys)
    assert f"'ray://127.0.0.1:{silent_port}'" in line and "no answer" in line


def test_optimize_with_a_silent_address(capsys, monkeypatch, silent_port, tmp_path):
    monkeypatch.setattr(ray_address, "RAY_CONNECT_TIMEOUT_S", 0.5)
    argv = [*OPTIMIZE, "--out", str(tmp_path / "run"), "--ray-address", f"127.0.0.1:{silent_port}"]
    line = one_error_line(argv, capsys)
    assert f"cannot reach the Ray cluster at '127.0.0.1:{silent_port}'" in line
    assert not (tmp_path / "run").exists()  # refused before the run directory is made


def test_optimize_with_a_malformed_address_leaves_no_run_directory(capsys, tmp_path):
    """Refused when the executor is made, not at the first evaluation: a run directory made before would
    refuse the corrected retry ("already holds a search run")."""
    run_dir = tmp_path / "run"
    line = one_error_line([*OPTIMIZE, "--out", str(run_dir), "--ray-address", "bad address"], capsys)
    assert "'bad address'" in line and "HOST:PORT" in line
    assert not run_dir.exists()


def test_make_executor_checks_the_address(refused_port, monkeypatch):
    with pytest.raises(RolegraphError, match="is not HOST:PORT"):
        make_executor("ray", address="bad address")
    with pytest.raises(RolegraphError, match=f"cannot reach the Ray cluster at '127.0.0.1:{refused_port}'"):
        make_executor("ray", address=f"127.0.0.1:{refused_port}")
    monkeypatch.setenv("RAY_ADDRESS", "no-port")  # what ray.init would join: checked as well, and named
    with pytest.raises(RolegraphError, match=r"'no-port' \(from \$RAY_ADDRESS\) is not HOST:PORT"):
        make_executor("ray")


def test_optimize_with_a_client_address_without_the_client_package(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "grpc", None)
    line = one_error_line([*OPTIMIZE, "--out", str(tmp_path / "run"), "--ray-address", "ray://HEAD:10001"], capsys)
    assert "'ray://HEAD:10001'" in line and "grpcio" in line


def test_address_from_the_environment_is_checked_and_named(capsys, monkeypatch, refused_port):
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{refused_port}")  # ray.init would join this for no --ray-address
    line = one_error_line(EVAL, capsys)
    assert f"'127.0.0.1:{refused_port}' (from $RAY_ADDRESS)" in line


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.5:port", "127.0.0.1:70000", ":6379"])
def test_malformed_address(capsys, address):
    line = one_error_line([*EVAL, "--ray-address", address], capsys)
    assert f"'{address}'" in line and "HOST:PORT" in line


class _QuietHTTP(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # the server's own log would be a second stderr line
        pass


def test_http_server_port_is_one_line_within_the_timeout(capsys, monkeypatch):
    """A port that answers, but not as Ray (here HTTP), is refused before ray.init, which would retry it for
    minutes printing its own warnings."""
    monkeypatch.setattr(ray_address, "RAY_CONNECT_TIMEOUT_S", 0.5)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _QuietHTTP)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:  # one_error_line's RETURN_BOUND_S is the hang guard (ray.init took minutes here)
        line = one_error_line([*EVAL, "--ray-address", f"127.0.0.1:{port}"], capsys)
    finally:
        server.shutdown()
        server.server_close()
    assert f"'127.0.0.1:{port}' is not a Ray cluster" in line and "did not answer as gRPC" in line
    assert "within 0.5 s;" in line  # the wait it gave up after is the patched one (how soon is not asserted)


def test_any_ray_init_failure_is_one_masked_line(monkeypatch):
    """What ray.init raises once the port answers as Ray's GCS (e.g. a cluster that refuses this driver) names the
    address, masked."""
    grpc = pytest.importorskip("grpc", reason="grpcio is not installed")

    def refuse(address: str, **_: object) -> None:
        raise RuntimeError(f"GCS at {address} is not a Ray cluster\n(more detail)")

    monkeypatch.setattr(ray, "init", refuse)
    with ray_stand_in(grpc) as port, pytest.raises(RolegraphError) as caught:
        RayExecutor(f"alice:s3cr3t@127.0.0.1:{port}")._init_ray()
    message = str(caught.value)
    assert message.startswith(f"cannot connect to the Ray cluster at '***@127.0.0.1:{port}'")
    assert "is not a Ray cluster (more detail)" in message and "s3cr3t" not in message and "\n" not in message


@pytest.mark.parametrize(("address", "shown"), [
    ("ray://HEAD:10001", "ray://HEAD:10001"),
    ("ray://bob:pw@HEAD:10001", "ray://***@HEAD:10001"),
    ("ray://bob:s3cr@t@127.0.0.1:18765", "ray://***@127.0.0.1:18765"),  # the password's own '@' is masked too
    ("bob:p@w@10.0.0.5:6379?token=x@y", "***@10.0.0.5:6379?***"),
    ("10.0.0.5:6379?password=pw", "10.0.0.5:6379?***"),
])
def test_shown_address(address, shown):
    assert shown_address(address) == shown

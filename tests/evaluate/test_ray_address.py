"""A Ray address whose port accepts connections but is not a Ray cluster is refused in one line within the
connect timeout (ray.init would retry it for minutes), and a port that answers the first call of Ray's GCS or
client server, as those do, passes. No Ray cluster is started: the servers here are an HTTP server, a silent TCP
acceptor, a gRPC server with no services (another gRPC service, or an HTTP/2 proxy: ray.init retried it for
minutes, and hung on the client port given as HOST:PORT), and gRPC stand-ins answering Ray's probed calls as a
GCS or client server does (OK, or UNAUTHENTICATED from a cluster with token authentication, as Ray 2.60's local
GCS answered here)."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rolegraph.errors import RolegraphError
from rolegraph.evaluate import ray_address
from rolegraph.evaluate.ray_address import check_ray_address
from tests.evaluate.ray_stand_in import CLIENT_PROBE, GCS_PROBE, ray_stand_in

grpc = pytest.importorskip("grpc", reason="grpcio is not installed (pip install 'rolegraph[ray]')")

TIMEOUT_S = 0.5  # the patched connect timeout
HANG_GUARD_S = 60
"""A refusal that hangs fails here (ray.init retried such ports for minutes); how soon one comes is not asserted
(timing goals live in benchmarks/): each refusal names the wait it used, which must be the patched timeout."""
pytestmark = pytest.mark.timeout(HANG_GUARD_S)


@pytest.fixture(autouse=True)
def _short_timeout(monkeypatch):
    monkeypatch.setattr(ray_address, "RAY_CONNECT_TIMEOUT_S", TIMEOUT_S)
    for name in ("RAY_USE_TLS", "RAY_grpc_enable_http_proxy"):
        monkeypatch.delenv(name, raising=False)


class _Quiet(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_port() -> Iterator[int]:
    """A plain HTTP/1 server on loopback (what a dashboard or a web app port answers)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def mute_port() -> Iterator[int]:
    """A port that accepts every connection and never sends a byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        for conn in held:
            conn.close()


@pytest.fixture
def grpc_port() -> Iterator[int]:
    """A gRPC server with no services: the transport Ray's GCS and client server speak, nothing more."""
    with ray_stand_in(grpc, methods=()) as port:
        yield port


@pytest.fixture(params=[None, grpc.StatusCode.UNAUTHENTICATED], ids=["open", "token-auth"])
def ray_port(request) -> Iterator[int]:
    """A stand-in Ray server on loopback: an open cluster, and one with token authentication."""
    with ray_stand_in(grpc, answer=request.param) as port:
        yield port


def refused_quickly(address: str) -> str:
    """The refusal of `address`, which waited at most the patched timeout (said in the message)."""
    message = refused(address)
    assert f"{TIMEOUT_S:g} s" in message, message
    return message


def refused(address: str) -> str:
    """The one-line refusal of `address` (a server that answers, so no wait to measure)."""
    with pytest.raises(RolegraphError) as caught:
        check_ray_address(address)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("form", ["127.0.0.1:{port}", "ray://127.0.0.1:{port}"])
def test_http_server_port_is_not_a_ray_cluster(http_port, form):
    address = form.format(port=http_port)
    message = refused_quickly(address)
    assert message.startswith(f"the Ray address '{address}' is not a Ray cluster")
    assert f"127.0.0.1:{http_port} accepted a connection but did not answer as gRPC" in message
    assert "within 0.5 s" in message


def test_silent_acceptor_is_not_a_ray_cluster(mute_port):
    message = refused_quickly(f"127.0.0.1:{mute_port}")
    assert f"'127.0.0.1:{mute_port}' is not a Ray cluster" in message and "within 0.5 s" in message


def test_refusal_masks_what_the_address_carries(http_port):
    message = refused_quickly(f"ray://alice:s3cr3t@127.0.0.1:{http_port}?token=abc123")
    assert f"'ray://***@127.0.0.1:{http_port}?***'" in message
    assert "s3cr3t" not in message and "abc123" not in message and "alice" not in message


def test_refusal_masks_a_password_holding_an_at_sign(http_port):
    """The user part runs to the last '@', where the host is read from: no piece of the password is printed."""
    message = refused_quickly(f"ray://bob:s3cr@t@127.0.0.1:{http_port}")
    assert f"'ray://***@127.0.0.1:{http_port}'" in message
    assert "s3cr" not in message and "@t@" not in message and "bob" not in message


@pytest.mark.parametrize("form", ["127.0.0.1:{port}", "ray://127.0.0.1:{port}", "localhost:{port}"])
def test_a_server_answering_rays_calls_passes(ray_port, monkeypatch, form):
    monkeypatch.setattr(ray_address, "RAY_CONNECT_TIMEOUT_S", 5.0)  # a real server gets the real time
    check_ray_address(form.format(port=ray_port))


@pytest.mark.parametrize(
    "form, server", [("127.0.0.1:{port}", "a Ray head's GCS"), ("ray://127.0.0.1:{port}", "a Ray client server")]
)
def test_a_grpc_server_without_rays_calls_is_not_a_ray_cluster(grpc_port, form, server):
    address = form.format(port=grpc_port)
    message = refused(address)
    assert message.startswith(f"the Ray address '{address}' is not a Ray cluster: 127.0.0.1:{grpc_port} answers gRPC")
    assert f"not as {server}" in message and "6379" in message


@pytest.mark.parametrize("wrong, right", [(CLIENT_PROBE, GCS_PROBE), (GCS_PROBE, CLIENT_PROBE)])
def test_rays_other_port_is_refused(wrong, right):
    """The client port given as HOST:PORT (ray.init hung on it) or the GCS port given as ray://: each server has
    only its own calls, so the check refuses the form that does not match."""
    with ray_stand_in(grpc, methods=(wrong,)) as port:
        address = f"127.0.0.1:{port}" if right == GCS_PROBE else f"ray://127.0.0.1:{port}"
        assert "answers gRPC but not as" in refused(address)


def test_http_proxy_settings_do_not_reroute_the_check(ray_port, monkeypatch):
    """Ray's own channels ignore http_proxy (unless RAY_grpc_enable_http_proxy); so does the check."""
    monkeypatch.setattr(ray_address, "RAY_CONNECT_TIMEOUT_S", 5.0)
    for name in ("http_proxy", "https_proxy", "grpc_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # the discard port: a proxy there never answers
    for name in ("no_proxy", "NO_PROXY", "no_grpc_proxy"):
        monkeypatch.delenv(name, raising=False)
    check_ray_address(f"127.0.0.1:{ray_port}")


def test_without_grpcio_a_gcs_address_gets_the_tcp_check_only(http_port, monkeypatch):
    """Plain `pip install ray` joins HOST:PORT without grpcio: the gRPC step is skipped, not an error."""
    monkeypatch.setitem(sys.modules, "grpc", None)
    check_ray_address(f"127.0.0.1:{http_port}")


def test_tls_without_its_files_is_left_to_ray(http_port, monkeypatch):
    """RAY_USE_TLS without the certificate files: Ray refuses that itself, so the gRPC step is skipped."""
    monkeypatch.setenv("RAY_USE_TLS", "1")
    for name in ray_address.TLS_FILES_ENV:
        monkeypatch.delenv(name, raising=False)
    check_ray_address(f"127.0.0.1:{http_port}")


def test_tls_channel_is_used_when_ray_uses_tls(grpc_port, monkeypatch, tmp_path):
    """With RAY_USE_TLS on, the check speaks TLS as Ray would: a plaintext gRPC server does not pass."""
    for name in ray_address.TLS_FILES_ENV:
        path = tmp_path / name
        path.write_bytes(b"")
        monkeypatch.setenv(name, str(path))
    monkeypatch.setenv("RAY_USE_TLS", "1")
    check_ray_address_refused = refused_quickly(f"127.0.0.1:{grpc_port}")
    assert "did not answer as gRPC" in check_ray_address_refused

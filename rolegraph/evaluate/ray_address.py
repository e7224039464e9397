"""Checks a Ray cluster address before ray.init gets it.

ray.init retries an address that does not answer as a Ray cluster for minutes, printing a warning every
few seconds, so a mistyped host or port (or the port of some other service) would look like a hang. Both
address forms Ray joins speak gRPC over HTTP/2 (HOST:PORT is the head's GCS, ray://HOST:PORT the Ray
client server), so a port that does not complete a gRPC connection within RAY_CONNECT_TIMEOUT_S is refused
here in one line; so is one that speaks gRPC but lacks the Ray call its address form starts with (`RAY_PROBES`:
another gRPC service, an HTTP/2 proxy, or Ray's other port, on which ray.init retried for minutes or hung).
Whether the cluster accepts this driver (its version, its token) is ray.init's to say.
"""

from __future__ import annotations

import importlib.util
import os
import re
import socket
from pathlib import Path

from rolegraph.errors import EngineMissingError, RolegraphError

RAY_CONNECT_TIMEOUT_S = 5.0
"""How long a cluster's host:port may take to accept a TCP connection, and then to complete a gRPC
connection, before ray.init is tried. Ray itself retries an unreachable or non-Ray address for minutes,
printing a warning every few seconds; this check makes a wrong or down address one line instead."""
RAY_CLIENT_PORT = 10001  # what Ray assumes for a "ray://host" address without a port
RAY_CLIENT_HINT = "pip install 'rolegraph[ray]' (or 'ray[client]')"
TLS_ENV = "RAY_USE_TLS"  # Ray's own switch: the cluster's gRPC is TLS with the certificates named below
TLS_FILES_ENV = ("RAY_TLS_SERVER_CERT", "RAY_TLS_SERVER_KEY", "RAY_TLS_CA_CERT")
HTTP_PROXY_ENV = "RAY_grpc_enable_http_proxy"  # Ray's channels ignore http_proxy unless this is set
RAY_PROBES = {
    "": ("/ray.rpc.NodeInfoGcsService/GetClusterId", "a Ray head's GCS"),
    "ray": ("/ray.rpc.RayletDriver/ClusterInfo", "a Ray client server"),
}
"""Per address form (HOST:PORT, ray://), a call its server has (the GCS's first call from a driver; the client
server's) and what that server is. Called with an empty request once gRPC is up: UNIMPLEMENTED means the port is
not that server; any other answer (OK, or UNAUTHENTICATED from a cluster with token authentication) passes."""
PORTS_HINT = f"HOST:PORT is the head's GCS port (usually 6379); the client port ({RAY_CLIENT_PORT}) takes ray://HEAD"


def _secrets(address: str) -> list[str]:
    """What an address may carry that is not printed: a user:password before '@', a query or fragment.

    The user part runs to the authority's last '@', where `_host_port` splits it too: a password may hold
    an '@' of its own, and masking only up to the first would print the rest of it."""
    user = re.match(r"(?:[A-Za-z][A-Za-z0-9+.-]*://)?([^/?#]+)@", address)
    query = re.search(r"[?#](.+)$", address)
    return [m.group(1) for m in (user, query) if m is not None]


def shown_address(address: str) -> str:
    """The address as it may be printed, its `_secrets` masked."""
    for secret in _secrets(address):
        address = address.replace(secret, "***")
    return address


def _host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of a "host:port" or "ray://host[:port]" address; None when it has neither form."""
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "", address
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0].rpartition("@")[2]
    if netloc.startswith("["):  # [v6 address]:port
        host, _, tail = netloc[1:].partition("]")
        port_text = tail[1:] if tail.startswith(":") else tail
    else:
        host, colon, port_text = netloc.rpartition(":")
        if not colon:
            host, port_text = netloc, ""
    if not port_text and scheme == "ray":
        port_text = str(RAY_CLIENT_PORT)
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        return None
    return host, int(port_text)


def check_ray_address(address: str, source: str = "") -> None:
    """Refuse, in one line, an address ray.init cannot use: a client address without the client package, a
    malformed one, one where nothing accepts a connection within RAY_CONNECT_TIMEOUT_S, or one whose port
    answers but does not complete a gRPC connection within that time (Ray would retry either for minutes)."""
    shown = shown_address(address)
    scheme, sep, _ = address.partition("://")
    has_grpc = importlib.util.find_spec("grpc") is not None
    if sep and not has_grpc:
        raise EngineMissingError(
            f"the Ray address '{shown}'{source} connects as a Ray client, which needs grpcio: {RAY_CLIENT_HINT}"
        )
    if sep and scheme != "ray":
        return  # another provider's client ("anyscale://..."): its own library resolves and reaches it
    target = _host_port(address)
    if target is None:
        raise RolegraphError(
            f"the Ray address '{shown}'{source} is not HOST:PORT, ray://HEAD[:PORT] or auto "
            "(e.g. 10.0.0.5:6379 or ray://10.0.0.5:10001)"
        )
    host, port = target
    timeout = RAY_CONNECT_TIMEOUT_S
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__)
        raise RolegraphError(
            f"cannot reach the Ray cluster at '{shown}'{source}: {host}:{port} did not accept a connection "
            f"({reason}; waited at most {timeout:g} s); check the address and that the cluster is up"
        ) from None
    if not has_grpc:
        # Plain `pip install ray` joins a HOST:PORT address without grpcio (Ray's core bundles its own gRPC);
        # without it a non-Ray port is left to ray.init, which ends in one line too, only later.
        return
    problem = _grpc_problem(host, port, timeout, *RAY_PROBES["ray" if sep else ""])
    if problem is not None:
        raise RolegraphError(f"the Ray address '{shown}'{source} is not a Ray cluster: {host}:{port} {problem}")


def _grpc_problem(host: str, port: int, timeout: float, method: str, server: str) -> str | None:
    """Why host:port is not `server`, or None: no gRPC (HTTP/2) connection ready within `timeout`, or `method`
    unknown there (`RAY_PROBES`, asked within another `timeout`).

    The channel is made as Ray makes its own: TLS when RAY_USE_TLS is on (an insecure channel would never
    become ready against a TLS cluster), no HTTP proxy unless Ray's switch enables one."""
    import grpc  # type: ignore[import-untyped]  # grpcio ships no type stubs

    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    options = [("grpc.enable_http_proxy", int(_env_on(HTTP_PROXY_ENV)))]
    if _env_on(TLS_ENV):
        try:
            cert, key, ca = (Path(os.environ[name]).read_bytes() for name in TLS_FILES_ENV)
        except (KeyError, OSError):
            return None  # Ray refuses missing TLS files itself, in its own words, before connecting
        creds = grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)
        channel = grpc.secure_channel(target, creds, options=options)
    else:
        channel = grpc.insecure_channel(target, options=options)
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
        channel.unary_unary(method)(b"", timeout=timeout)
    except grpc.FutureTimeoutError:
        return (
            f"accepted a connection but did not answer as gRPC (which Ray speaks) within "
            f"{timeout:g} s; check the port (the head's GCS port, usually 6379, or "
            f"ray://HEAD:{RAY_CLIENT_PORT} for the client)"
        )
    except grpc.RpcError as exc:  # an answer: only "no such method" says this is not the server
        if exc.code() == grpc.StatusCode.UNIMPLEMENTED:
            return f"answers gRPC but not as {server}; {PORTS_HINT}"
    finally:
        channel.close()
    return None


def _env_on(name: str) -> bool:
    return os.environ.get(name, "0").lower() in ("1", "true")

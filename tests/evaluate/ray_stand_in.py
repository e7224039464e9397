"""A stand-in Ray server for the address check (`rolegraph.evaluate.ray_address`): a gRPC server on loopback with
the calls the check makes of Ray's GCS and client server, no Ray cluster started."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from typing import Any

GCS_PROBE = "/ray.rpc.NodeInfoGcsService/GetClusterId"  # the first call of a driver to the GCS (Ray 2.60)
CLIENT_PROBE = "/ray.rpc.RayletDriver/ClusterInfo"  # a call of Ray's client server


@contextmanager
def ray_stand_in(grpc: Any, methods: tuple[str, ...] = (GCS_PROBE, CLIENT_PROBE), answer: Any = None) -> Iterator[int]:
    """A gRPC server with `methods`, each answering OK (`answer` None) or aborting with the status `answer`, as a
    cluster with token authentication does a call without its token (UNAUTHENTICATED, what Ray 2.60's local GCS
    answered the check); yields its port. `grpc` is the test's `pytest.importorskip` of grpcio."""

    def reply(request: bytes, context: Any) -> bytes:
        if answer is not None:
            context.abort(answer, "Authentication token is missing or incorrect")
        return b""

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    for path in methods:
        service, method = path.strip("/").split("/")
        handlers = {method: grpc.unary_unary_rpc_method_handler(reply)}
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield port
    finally:
        server.stop(None)

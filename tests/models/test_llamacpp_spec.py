"""A `LlamaCppServer`'s pool entry takes as many calls at once as the server has slots (`parallel`), so a
two-slot server is sent two calls at a time, not one. Checked without starting the engine: the real constructor
runs with xllamacpp's `Server` replaced by a stand-in that records the parameters it is given."""

from __future__ import annotations

import pytest

from rolegraph.models.llamacpp_server import LlamaCppServer

xlc = pytest.importorskip("xllamacpp")


class _Engine:
    """Stands in for `xllamacpp.Server`: keeps the parameters, starts nothing."""

    def __init__(self, params) -> None:
        self.params = params


@pytest.fixture
def unstarted(monkeypatch, tmp_path):
    """LlamaCppServer(**kw) with the engine replaced and readiness not polled; a dummy model file."""
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    monkeypatch.setattr(xlc, "Server", _Engine)
    monkeypatch.setattr(LlamaCppServer, "_wait_ready", lambda self: None)
    return lambda **kw: LlamaCppServer(model_path=gguf, port=9, **kw)


@pytest.mark.parametrize("slots", [1, 2, 4])
def test_the_pool_entry_takes_one_call_per_slot(unstarted, slots):
    server = unstarted(parallel=slots, n_ctx=512)
    assert server._server.params.n_parallel == slots  # the slots really asked of llama.cpp
    spec = server.spec()
    assert spec.max_concurrency == slots
    assert spec.context_window == 512  # each slot's share of the context


def test_an_override_still_wins(unstarted):
    assert unstarted(parallel=2).spec(max_concurrency=1).max_concurrency == 1

"""A run's provenance: which servers, weights and simulator answered, with what sampling, by which rolegraph.

Two results can only be compared (or a stored one trusted) when they say what produced them. The
servers' model ids and serve-sim's fingerprint come from the replies themselves (`ServedBy`); the
local model's weights are identified by the GGUF file's sha256; the in-process simulator by its
fingerprint; the sampling parameters are each node's own.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

from rolegraph import __version__
from rolegraph.chat.spec import ModelSpec, is_loopback_url, public_url
from rolegraph.graphs.runtime import CompiledGraph
from rolegraph.models.provenance import ModelProvenance, NodeSampling, Provenance, ServedBy, Simulation

GGUF_SUFFIX = ".gguf"


@functools.lru_cache(maxsize=1)
def _this_process_sim() -> str:
    """The in-process simulator's fingerprint (hashing its files takes about 1.5 ms: once per process)."""
    from rolegraph.sim.fingerprint import sim_fingerprint

    return sim_fingerprint()


def model_provenance(spec: ModelSpec, seen: ServedBy | None = None) -> ModelProvenance:
    """One pool model: its entry's identity, beside what its replies said (`seen`; None: no reply yet)."""
    in_process_sim = spec.backend == "sim"
    fingerprint = seen.sim_fingerprint if seen is not None else None
    if fingerprint is None and in_process_sim:
        fingerprint = _this_process_sim()
    gguf = None
    if spec.backend == "local":
        from rolegraph.models.local import gguf_sha256

        gguf = gguf_sha256()
    elif seen is not None and spec.backend == "openai":
        gguf = _served_gguf(spec, seen.served_model)
    return ModelProvenance(
        backend=spec.backend,
        api_name=spec.api_name,
        endpoint=public_endpoint(spec.base_url),
        gguf_sha256=gguf,
        served_model=(seen.served_model if seen is not None else None) or (spec.id if in_process_sim else None),
        simulated=seen.simulated if seen is not None else spec.simulated,
        sim_fingerprint=fingerprint,
    )


def public_endpoint(url: str | None) -> str | None:
    """The endpoint as provenance records it: scheme, host, port and path, never credentials or a query
    (some providers take a key there). The rule itself is `chat.spec.public_url`, shared with the backends'
    messages and the timings store below this layer."""
    return public_url(url)


def _served_gguf(spec: ModelSpec, served: str | None) -> str | None:
    """llama.cpp's server names the GGUF file it serves as the reply's model: on loopback, that file is
    on this machine and its sha256 says which weights answered."""
    if not served or not served.endswith(GGUF_SUFFIX) or not is_loopback_url(spec.base_url):
        return None
    path = Path(served)
    if not path.is_file():
        return None
    from rolegraph.models.local import file_sha256

    return file_sha256(path)


def models_provenance(specs: Iterable[ModelSpec], served: dict[str, ServedBy]) -> dict[str, ModelProvenance]:
    """Per pool model id (each once), `model_provenance` with what its replies said."""
    out: dict[str, ModelProvenance] = {}
    for spec in specs:
        if spec.id not in out:
            out[spec.id] = model_provenance(spec, served.get(spec.id))
    return out


def run_provenance(
    graph: CompiledGraph, *, seed: int, simulation: Simulation, served: dict[str, ServedBy]
) -> Provenance:
    """The provenance of runs of `graph` whose replies said `served` (per pool model)."""
    sampling = {
        node_id: NodeSampling(model=plan.spec.id, temperature=plan.temperature, max_tokens=plan.max_tokens)
        for node_id, plan in graph.plans.items()
    }
    return Provenance(
        rolegraph_version=__version__,
        simulation=simulation,
        seed=seed,
        models=models_provenance((plan.spec for plan in graph.plans.values()), served),
        sampling=sampling,
    )

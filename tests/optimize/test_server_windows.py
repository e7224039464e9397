"""A pool entry without a `context_window` is checked against the window its server says it has (llama.cpp's own
server: `/props`), as the pool format promises ("else the server's own"): a search whose every graph cannot fit
that window is refused in one line before any call, as with a declared window, instead of starting and failing on
the server's 400 (the window came from the pool file only)."""
from __future__ import annotations

import asyncio
import contextlib
import io
import json
from pathlib import Path

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.models.endpoint import server_windows
from rolegraph.models.pool import ModelPool

MODEL = "llamacpp/smollm2"
WORDS = 1500
"""Words of each question: ~1,650 tokens with SmolLM2's tokenizer, which with a solver's 1,024-token reply cannot fit
2,048 but fits any default-sized window a search would otherwise assume (none)."""


def _spec(base_url: str, window: int | None = None) -> ModelSpec:
    return ModelSpec(id=MODEL, backend="openai", base_url=base_url, model="smollm2", params_b=0.135, layers=30,
                     hidden=576, context_window=window, max_concurrency=2, price_in=1.0, price_out=2.0)


def test_the_server_states_its_window_and_a_declared_one_is_kept(llamacpp):
    found = asyncio.run(server_windows([_spec(llamacpp.base_url)]))
    assert found == {MODEL: llamacpp.n_ctx} and llamacpp.n_ctx == 2048
    assert asyncio.run(server_windows([_spec(llamacpp.base_url, 4096)])) == {}  # the user's word is not asked
    pool = ModelPool([_spec(llamacpp.base_url)])
    pool.learn_windows(found)
    assert pool.get(MODEL).context_window == 2048
    declared = ModelPool([_spec(llamacpp.base_url, 4096)])
    declared.learn_windows(found)
    assert declared.get(MODEL).context_window == 4096


def test_a_search_is_refused_by_the_servers_window_before_any_call(llamacpp, tmp_path, monkeypatch):
    from rolegraph.cli import main

    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ROLEGRAPH_POOL", raising=False)
    data = tmp_path / "long.jsonl"
    data.write_text("".join(json.dumps({"question": "word " * WORDS + f"{k} + {k}?", "answer": f"#### {2 * k}"})
                            + "\n" for k in range(12)))
    s = _spec(llamacpp.base_url)
    pool = tmp_path / "pool.yaml"
    pool.write_text(f"models:\n  - {{id: {MODEL}, backend: openai, base_url: '{s.base_url}', model: smollm2, "
                    "params_b: 0.135, layers: 30, hidden: 576, max_concurrency: 2, price_in: 1.0, price_out: 2.0}\n")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main(["optimize", "--task", "gsm8k", "--data", str(data), "--pool", str(pool), "--roles", "solver",
                  "--max-nodes", "1", "--iterations", "1", "--samples", "1", "--batch", "2", "--validation-items",
                  "2", "--test-items", "2", "--route-items", "0", "--out", str(tmp_path / "run")])
            code = 0
        except SystemExit as exc:
            code = exc.code or 0
    lines = [line for line in err.getvalue().splitlines() if line.startswith("error:")]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err.getvalue(), err.getvalue()
    assert f"{MODEL}: context window 2048" in lines[0] and "HTTP 400" not in lines[0]
    assert not Path(tmp_path / "run").exists()  # refused before the run directory is made


def test_serve_sim_states_its_models_windows_as_vllm_does(tmp_path):
    from rolegraph.settings import Settings
    from rolegraph.sim.server import ServerThread, create_app

    builtin = ModelPool.builtin()
    sim = builtin.get("sim/llama-3.2-1b")
    with ServerThread(create_app(builtin, Settings(home=tmp_path / "home", latency_scale=0.0))) as srv:
        spec = ModelSpec(id="twin/1b", backend="openai", base_url=srv.base_url, model=sim.id, params_b=1.0)
        assert asyncio.run(server_windows([spec])) == {"twin/1b": sim.context_window} and sim.context_window


def test_a_server_that_does_not_say_is_warned_about_and_left_unlimited():
    from fastapi import FastAPI

    from rolegraph.optimize.run_setup import adopt_server_windows
    from rolegraph.optimize.space import SearchSpace
    from rolegraph.optimize.space_context import ContextWindowWarning
    from rolegraph.sim.server import ServerThread

    silent = FastAPI()  # answers no /props and no /models

    with ServerThread(silent) as srv:
        spec = ModelSpec(id="quiet/m", backend="openai", base_url=srv.base_url, model="m", params_b=1.0, layers=16,
                         hidden=2048)
        space = SearchSpace(pool=ModelPool([*ModelPool.builtin(), spec]), models=("quiet/m",), roles=("solver",),
                            max_nodes=1, budget=None)
        with pytest.warns(ContextWindowWarning, match=r"no context window known for quiet/m"):
            asyncio.run(adopt_server_windows(space))
    assert space.pool.get("quiet/m").context_window is None


def test_a_resume_learns_the_servers_windows_as_the_start_did(tiny_search, tmp_path, monkeypatch):
    """The space a resumed search proposes from holds the graphs its start's held: the windows are asked again."""
    import rolegraph.optimize.api as api
    from rolegraph.optimize.api import resume_async
    from rolegraph.settings import Settings
    from tests.conftest import copy_search

    base = copy_search(tiny_search, tmp_path)
    seen = []

    async def adopted(space):
        seen.append(tuple(space.models))

    monkeypatch.setattr(api, "adopt_server_windows", adopted)
    asyncio.run(resume_async(base / "run", Settings(home=base / "home")))
    assert seen and seen[0]

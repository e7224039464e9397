"""examples/search_agent.py --eval reports each run's latency with calls answered from the response cache at the
time first measured, and says how many came from the cache: a rerun printed `mean_s` 0.004 (the cache's time)
after 11.6 s, with nothing saying the figures came from the cache."""
from __future__ import annotations

import asyncio
import importlib.util
import json
from pathlib import Path

import pytest
from fastapi import FastAPI

from rolegraph.chat.spec import ModelSpec
from rolegraph.graphs.runtime import GraphRunner
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.sim.server_thread import ServerThread
from rolegraph.tools.local_search import LocalSearch, SearchTool
from rolegraph.tools.toolbox import ToolBox

EXAMPLE = Path(__file__).parents[2] / "examples" / "search_agent.py"
PAUSE_S = 0.3  # every call takes this long: well above the reader's own time and the cache's
ROWS = [{"id": "a", "question": "Who discovered penicillin?", "answer": "Alexander Fleming", "split": "heldout"},
        {"id": "b", "question": "Where was Alexander Fleming born?", "answer": "Darvel", "split": "heldout"}]
DOCS = [{"title": "Penicillin", "text": "Penicillin was discovered by Alexander Fleming in 1928."},
        {"title": "Alexander Fleming", "text": "Alexander Fleming was born in Darvel, Scotland."}]


def slow_endpoint() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat() -> dict:
        await asyncio.sleep(PAUSE_S)
        return {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "Alexander Fleming"}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}}

    return app


def load_agent():
    spec = importlib.util.spec_from_file_location("example_search_agent_eval", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_cached_rerun_reports_the_seconds_first_measured_and_says_so(tmp_path, monkeypatch, capsys):
    agent = load_agent()
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    settings = Settings(home=tmp_path / "h")
    with ServerThread(slow_endpoint()) as server:
        # the example's model, answered by a slow endpoint (a real model to the client: cached, timed per call)
        model = ModelSpec(id=agent.MODEL, backend="openai", base_url=server.base_url, model="m")
        box = ToolBox([SearchTool(LocalSearch.from_documents(DOCS))])
        monkeypatch.setattr(agent, "runner", lambda s: GraphRunner(ModelHub(ModelPool([model]), s), toolbox=box,
                                                                    roles=agent.roles()))
        first = asyncio.run(agent.evaluate(rows, "heldout", settings))
        first_out = capsys.readouterr().out
        again = asyncio.run(agent.evaluate(rows, "heldout", settings))
        again_out = capsys.readouterr().out
    assert first["n"] == again["n"] == len(ROWS)
    assert first["calls"] == again["calls"] >= len(ROWS) and first["cached_calls"] == 0
    assert again["cached_calls"] == again["calls"]
    assert first["mean_s"] >= PAUSE_S  # each question waited for at least one call
    assert again["mean_s"] == pytest.approx(first["mean_s"], abs=PAUSE_S / 2)  # not the cache's milliseconds
    assert "response cache" not in first_out
    note = f"note: {again['calls']} of {again['calls']} model calls answered from the response cache"
    assert note in again_out
    assert json.loads(again_out.strip().splitlines()[-1]) == again  # the JSON line stays last

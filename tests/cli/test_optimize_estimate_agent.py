"""The estimate `rolegraph optimize` prints before a search whose feedback agent is a real endpoint and whose task
models are simulated: what it says against what the search then sends to the agent's server.

It once labelled the sim models' calls, tokens and modelled latency "real endpoints" and left the agent's calls
out of the time (the whole wall time of such a search: 7m44s against "~2 min"), and it counted one request per
step where the agent re-asks up to three times."""
from __future__ import annotations

import json
import re

import pytest
import yaml

from rolegraph.models.pool import ModelPool
from rolegraph.models.timings import TIMINGS_FILE, CallTimings
from rolegraph.sim.server import ServerThread
from tests.cli.support import cli
from tests.models.fake_servers import Canned

SIM = "sim/llama-3.2-1b,sim/llama-3.2-3b,sim/llama-3.1-8b"
AGENT = "my/agent"
WINDOW = 4096


@pytest.fixture(autouse=True)
def home(fresh_home):
    return fresh_home


def agent_server() -> Canned:
    """An OpenAI-compatible agent that answers every step with an unusable reply (so each step is asked to the
    attempt limit, then falls back); 1-token requests are the endpoint probe."""
    return Canned("more nodes!", prompt_tokens=900, completion_tokens=3)


def optimize(tmp_path, srv, capsys):
    pool = tmp_path / "pool.yaml"
    pool.write_text(yaml.safe_dump({"models": [{
        "id": AGENT, "backend": "openai", "base_url": srv.base_url, "model": "m", "context_window": WINDOW,
        "max_concurrency": 1, "price_in": 1.0, "price_out": 1.0}]}))
    return pool, cli(["optimize", "--task", "gsm", "--task-size", "80", "--pool", str(pool), "--models", SIM,
                      "--agent-model", AGENT, "--max-nodes", "4", "--budget", "18", "--iterations", "5",
                      "--samples", "2", "--batch", "4", "--validation-items", "4", "--test-items", "6",
                      "--out", str(tmp_path / "run"), "--json"], capsys)


def _number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in:\n{text}"
    return float(found.group(1).replace(",", ""))


def test_real_endpoint_figures_are_the_agents_and_the_sim_models_are_told_apart(tmp_path, capsys):
    agent = agent_server()
    requests = agent.bodies
    with ServerThread(agent.app) as srv:
        _, (code, out, err) = optimize(tmp_path, srv, capsys)
    assert code == 0, err
    estimate = err[err.index("estimate before the search"):]
    steps = json.loads(out)["feedback_agent"]["steps"]
    asked = [r for r in requests if r.get("max_tokens") != 1]  # the probe asks for one token
    assert steps > 0 and len(asked) == 3 * steps  # every step asked three times, then fell back
    # the agent's calls: as many as the search made steps, and at most as many requests as it sent
    assert _number(r"\+ (\d+) feedback-agent calls", estimate) == steps
    assert _number(r"feedback-agent calls \(high (\d+) requests", estimate) >= len(asked)
    assert "1-token probes of its endpoint" in estimate and len(requests) - len(asked) >= 1
    # the real endpoints are the agent's alone: its calls, not the sim nodes' hundreds
    assert _number(r"real endpoints: calls ~([\d,]+)", estimate) == steps
    assert _number(r"real endpoints: calls ~[\d,]+ \(high ([\d,]+)", estimate) >= len(asked)
    # the time: the agent's calls one at a time at the stated default (nothing of it measured yet)
    assert "assumed: none of its calls is measured yet" in estimate
    each = _number(r"the feedback agent's calls one at a time, ~(\d+) s each", estimate)
    assert _number(r"real endpoints: time ~(\d+) min", estimate) == round(steps * each / 60)
    # the sim models' figures are there, labelled simulated, with more calls than the agent makes
    assert _number(r"simulated \(sim/[^)]*\): calls ~([\d,]+)", estimate) > 10 * steps
    assert "simulated time ~" in estimate


def test_the_agents_measured_call_times_give_its_seconds(tmp_path, home, capsys):
    agent = agent_server()
    with ServerThread(agent.app) as srv:
        pool = tmp_path / "pool.yaml"
        pool.write_text(yaml.safe_dump({"models": [{
            "id": AGENT, "backend": "openai", "base_url": srv.base_url, "model": "m", "context_window": WINDOW,
            "max_concurrency": 1, "price_in": 1.0, "price_out": 1.0}]}))
        timings = CallTimings(home / TIMINGS_FILE)
        spec = ModelPool.load(pool).get(AGENT)
        # seconds = 2 + 0.001 per prompt token + 0.02 per output token, exactly
        for tokens_in, tokens_out, seconds in ((1000, 100, 5.0), (2000, 50, 5.0), (500, 300, 8.5), (3000, 200, 9.0)):
            timings.record(spec, tokens_in, tokens_out, seconds)
        timings.close()
        _, (code, out, err) = optimize(tmp_path, srv, capsys)
    assert code == 0, err
    # a prompt filling the 4096-token window but for a 1024-token reply: 2 + 3.072 + 20.48 = 25.6 s
    assert "~26 s each (measured)" in err

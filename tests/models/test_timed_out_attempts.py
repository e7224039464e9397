"""A timed-out attempt on a real endpoint is said, counted and held under a dollar cap (`models/timeouts.py`).

A 1-thread llama.cpp server took 123.5 s over a 768-token reply; the 120 s timeout expired, the same request went
again, and nothing was said: the abandoned attempt, which a paid endpoint bills, was in no count. Here a loopback
server answers each distinct request slower than a small `timeout_s` the first time and at once the second, and its
own record says what it was sent: the warning appears once per model and run, the count is right, answers come back,
and a dollar cap holds the abandoned attempt's worst case (refusing the retry when it cannot)."""
from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import warnings

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.errors import BudgetExceededError
from rolegraph.models.hub import ModelHub
from rolegraph.models.openai_backend import ModelCallError, OpenAIChatModel
from rolegraph.models.pool import ModelPool
from rolegraph.models.timeouts import TimedOutWarning
from rolegraph.settings import Settings
from rolegraph.sim.server import ServerThread
from tests.models.fake_servers import SlowFirstTime

TIMEOUT_S = 0.4
SLOW_S = 1.5  # the first answer to a request: well past TIMEOUT_S
PRICE_IN, PRICE_OUT = 50.0, 100.0  # dollars per million tokens
MAX_TOKENS = 1000
MODEL = "llc/slow"


def _spec(base_url: str, retries: int = 2) -> ModelSpec:
    return ModelSpec(id=MODEL, backend="openai", base_url=base_url, model="slow", timeout_s=TIMEOUT_S,
                     max_retries=retries, price_in=PRICE_IN, price_out=PRICE_OUT)


def _ask(question: str) -> list[dict]:
    return [{"role": "user", "content": question}]


def _said(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, TimedOutWarning)]


def test_a_hub_says_a_retried_timeout_once_per_model_and_counts_every_one(tmp_path):
    server = SlowFirstTime(SLOW_S)
    with ServerThread(server.app) as srv, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # every warning given is recorded: "once" must be rolegraph's doing
        hub = ModelHub(ModelPool([_spec(srv.base_url)]), Settings(home=tmp_path / "home", cache=False))

        async def two_calls() -> list[str]:
            model = hub.get(MODEL)
            outs = [await model.complete(_ask(q), max_tokens=MAX_TOKENS) for q in ("2+5?", "3+4?")]
            await hub.aclose()
            return [o.text for o in outs]

        answers = asyncio.run(two_calls())
    assert answers == ["Final answer: 7", "Final answer: 7"]
    assert len(server.bodies) == 4  # each call: the abandoned attempt, then its retry
    said = _said(caught)
    assert len(said) == 1, said
    line = said[0]
    assert f"model '{MODEL}'" in line and f"timed out after {TIMEOUT_S:g} s" in line and "sent again" in line
    assert "`timeout_s` in its pool entry" in line and "may still bill" in line and "leave out" in line
    worst = re.search(r"up to ([\d,]+) tokens", line)
    assert worst and MAX_TOKENS <= int(worst[1].replace(",", "")) <= MAX_TOKENS + 50  # its max_tokens and prompt
    assert hub.stats.timed_out == {MODEL: 2} and hub.stats.timed_out_attempts == 2
    assert hub.stats.calls == 2
    output_alone = MAX_TOKENS * PRICE_OUT / 1e6  # each abandoned request's max_tokens of output, at the pool's price
    assert hub.stats.timed_out_usd >= 2 * output_alone
    assert hub.stats.paid_usd == pytest.approx(2 * (12 * PRICE_IN + 4 * PRICE_OUT) / 1e6)  # the answered ones only


def test_a_model_used_alone_counts_its_timeouts_and_a_last_attempt_is_said_as_failing(tmp_path):
    server = SlowFirstTime(SLOW_S)
    with ServerThread(server.app) as srv, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = OpenAIChatModel(_spec(srv.base_url, retries=0), Settings(home=tmp_path / "home"))

        async def call() -> None:
            try:
                await model.complete(_ask("2+5?"), max_tokens=MAX_TOKENS)
            finally:
                await model.aclose()

        with pytest.raises(ModelCallError, match="timed out"):
            asyncio.run(call())
    assert len(server.bodies) == 1
    assert model.timeout_books.stats.timed_out == {MODEL: 1}
    said = _said(caught)
    assert len(said) == 1 and "its call failed" in said[0] and "sent again" not in said[0]


class Guard:
    """A spend guard that records what it holds and refuses once `cap` dollars would be held."""

    def __init__(self, cap: float) -> None:
        self.cap, self.held = cap, 0.0

    def reserve(self, spec: ModelSpec, messages: list, max_tokens: int) -> float:
        worst = spec.cost(100, max_tokens)
        if self.held + worst > self.cap:
            raise BudgetExceededError(f"dollar cap: held {self.held} + {worst} > {self.cap}")
        self.held += worst
        return worst

    def release(self, held: float) -> None:
        self.held -= held


def _guarded_call(tmp_path, cap: float) -> tuple[SlowFirstTime, Guard, BaseException | None]:
    server, guard = SlowFirstTime(SLOW_S), Guard(cap)
    with ServerThread(server.app) as srv, warnings.catch_warnings():
        warnings.simplefilter("ignore", TimedOutWarning)
        hub = ModelHub(ModelPool([_spec(srv.base_url)]), Settings(home=tmp_path / "home", cache=False))
        hub.spend_guard = guard

        async def call() -> BaseException | None:
            try:
                await hub.get(MODEL).complete(_ask("2+5?"), max_tokens=MAX_TOKENS)
            except BudgetExceededError as exc:
                return exc
            finally:
                await hub.aclose()
            return None

        error = asyncio.run(call())
    return server, guard, error


def test_a_dollar_cap_keeps_holding_the_abandoned_attempt_after_the_call(tmp_path):
    one = ModelSpec(id="x", backend="sim", price_in=PRICE_IN, price_out=PRICE_OUT).cost(100, MAX_TOKENS)
    server, guard, error = _guarded_call(tmp_path, cap=10 * one)
    assert error is None and len(server.bodies) == 2
    assert guard.held == pytest.approx(one)  # the call's own hold released; the abandoned attempt's kept


def test_a_dollar_cap_that_cannot_hold_the_abandoned_attempt_sends_no_retry(tmp_path):
    one = ModelSpec(id="x", backend="sim", price_in=PRICE_IN, price_out=PRICE_OUT).cost(100, MAX_TOKENS)
    server, guard, error = _guarded_call(tmp_path, cap=1.5 * one)
    assert isinstance(error, BudgetExceededError)
    assert len(server.bodies) == 1  # the retry was not sent: two requests could not both be billed under the cap
    assert guard.held == pytest.approx(0.0)


def test_rolegraph_eval_prints_the_timeout_once_on_stderr(tmp_path):
    server = SlowFirstTime(SLOW_S)
    graph = tmp_path / "one.yaml"
    graph.write_text(f"name: one\nnodes:\n  - {{id: out, role: solver, model: {MODEL}}}\nedges: []\n")
    with ServerThread(server.app) as srv:
        (tmp_path / "pool.yaml").write_text(
            "models:\n"
            f"  - {{id: {MODEL}, backend: openai, base_url: \"{srv.base_url}\", model: slow, params_b: 0.135,\n"
            f"     layers: 30, hidden: 576, price_in: {PRICE_IN}, price_out: {PRICE_OUT}, context_window: 4096,\n"
            f"     timeout_s: {TIMEOUT_S}, max_retries: 2, max_concurrency: 2}}\n")
        env = os.environ | {"ROLEGRAPH_HOME": str(tmp_path / "home")}
        env.pop("ROLEGRAPH_POOL", None)
        done = subprocess.run([sys.executable, "-m", "rolegraph", "eval", str(graph), "--task", "arith", "--n", "2",
                               "--pool", str(tmp_path / "pool.yaml"), "--json"],
                              env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(server.bodies) == 4  # two items, each asked twice
    lines = [ln for ln in done.stderr.splitlines() if "timed out" in ln]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"warning: model '{MODEL}' at {srv.base_url}: a request timed out after 0.4 s")
    assert json.loads(done.stdout)["calls"] == 2


def test_a_stream_opening_that_timed_out_is_counted_from_its_own_request(tmp_path):
    server = SlowFirstTime(SLOW_S)  # answers stream: true with plain JSON: the reply is taken whole
    with ServerThread(server.app) as srv, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = OpenAIChatModel(_spec(srv.base_url), Settings(home=tmp_path / "home"))

        async def stream() -> list:
            try:
                return [piece async for piece in model.stream(_ask("2+5?"), max_tokens=MAX_TOKENS)]
            finally:
                await model.aclose()

        pieces = asyncio.run(stream())
    assert pieces[-1].text == "Final answer: 7"
    assert [b.get("stream") for b in server.bodies] == [True, True]  # the opening, timed out, then again
    assert model.timeout_books.stats.timed_out == {MODEL: 1} and len(_said(caught)) == 1
    output_alone = MAX_TOKENS * PRICE_OUT / 1e6  # its worst case read from the request it sent (its max_tokens)
    assert output_alone <= model.timeout_books.stats.timed_out_usd <= output_alone + 50 * PRICE_IN / 1e6

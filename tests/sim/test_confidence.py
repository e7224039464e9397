"""The sim's answer log-probability: a real but imperfect signal of being right, that changes no answer, and comes
back through serve-sim in the OpenAI `logprobs` shape to reach a router's `Signals`."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest
from openai import OpenAI

from rolegraph.graphs.builder import Graph
from rolegraph.graphs.runtime import CompiledGraph
from rolegraph.graphs.signals import observe
from rolegraph.items import AnswerKey, Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.sim.model import SimChatModel
from tests.models.conftest import SIM_ID, http_spec, serve, server, settings, task_calls  # noqa: F401

# Answer-probability AUROC for correctness, published: Plaut et al. 2024 (15 chat LLMs, multiple-choice Q&A): about
# 0.6-0.7 for the better models; normalised self-evaluation anchors reach about 0.8-0.88 (arXiv 2603.06604). The
# sim's signal must beat the low end and stay clearly below an oracle.
PUBLISHED_LOW_AUROC = 0.6
BELOW_ORACLE_AUROC = 0.85
FRESH_ITEMS = 1500


def _auroc(right: np.ndarray, score: np.ndarray) -> float:
    pos, neg = score[right], score[~right]
    return float((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean())


def _solve(model: SimChatModel, i: int, sample: int = 0):
    key = AnswerKey(item_id=f"fresh-confidence-{i}", gold=str(17 + i % 89), family="math", distractors=[str(i + 2)])
    messages = [{"role": "system", "content": "You are the solver."}, {"role": "user", "content": f"Question: q{i}?"}]
    out = model.respond(messages, temperature=0.7, seed=3, sample=sample, answer_key=key)
    answer = out.text.strip().splitlines()[-1].removeprefix("Final answer: ")
    return out, model.brain("math").is_gold(answer, key)


@pytest.mark.parametrize("model_id", ["sim/llama-3.2-3b", "sim/llama-3.1-8b"])
def test_the_logprob_tells_right_from_wrong_at_a_published_level(model_id, tmp_path):
    spec = ModelPool.builtin().get(model_id)
    assert spec.logprobs  # the sim pool asks for them, as a deployment on OpenAI or vLLM would
    model = SimChatModel(spec, Settings(home=tmp_path))
    outs = [_solve(model, i) for i in range(FRESH_ITEMS)]
    right = np.array([r for _, r in outs])
    score = np.array([o.logprob for o, _ in outs])
    assert 0.2 < right.mean() < 0.8 and (score < 0).all()
    assert PUBLISHED_LOW_AUROC < _auroc(right, score) < BELOW_ORACLE_AUROC


def test_a_weaker_model_tells_right_from_wrong_less_well(tmp_path):
    """Plaut et al. 2024: correctness prediction rises with task accuracy (near chance for the weakest models)."""
    pool = ModelPool.builtin()
    aucs = []
    for model_id in ("sim/llama-3.2-1b", "sim/llama-3.1-8b"):
        model = SimChatModel(pool.get(model_id), Settings(home=tmp_path))
        outs = [_solve(model, i) for i in range(FRESH_ITEMS)]
        aucs.append(_auroc(np.array([r for _, r in outs]), np.array([o.logprob for o, _ in outs])))
    assert 0.5 < aucs[0] < aucs[1] - 0.03


def test_asking_for_logprobs_changes_no_answer_and_is_seeded(tmp_path):
    spec = ModelPool.builtin().get(SIM_ID)
    with_lp = SimChatModel(spec, Settings(home=tmp_path))
    without = SimChatModel(spec.model_copy(update={"logprobs": False}), Settings(home=tmp_path))
    for i in range(40):
        a, _ = _solve(with_lp, i, sample=i % 3)
        b, _ = _solve(without, i, sample=i % 3)
        assert a.text == b.text and a.usage == b.usage and b.logprob is None
        assert _solve(with_lp, i, sample=i % 3)[0].logprob == a.logprob  # same seed, same value
    assert len({_solve(with_lp, 5, sample=s)[0].logprob for s in range(6)}) == 6  # each sample has its own


def test_serve_sim_returns_openai_logprobs_only_when_asked(server):
    messages, key = task_calls(1)[0]
    client = OpenAI(base_url=server.base_url, api_key="unused")
    extra = {"rolegraph": {"answer_key": key.model_dump(), "sample": 0}}
    asked = client.chat.completions.create(model=SIM_ID, messages=messages, seed=1, max_tokens=1024, logprobs=True,
                                           extra_body=extra)
    plain = client.chat.completions.create(model=SIM_ID, messages=messages, seed=1, max_tokens=1024,
                                           extra_body=extra)
    content = asked.choices[0].logprobs.content
    assert content and all(t.logprob < 0 for t in content)
    assert "".join(t.token for t in content) == asked.choices[0].message.content
    assert plain.choices[0].logprobs is None and plain.choices[0].message.content == asked.choices[0].message.content


def test_logprobs_reach_a_routers_signals_through_the_openai_backend(server, tmp_path):
    """A solver served by serve-sim over HTTP with `logprobs: true`: the run's observed signal is the sim's own
    value for that call, exactly (the in-process sim answers the same call)."""
    spec = http_spec(server.base_url, logprobs=True)
    pool = ModelPool([*ModelPool.builtin(), spec])
    item = Item(id="gsm-lp-1", question="Tom has 3 boxes of 4 apples. How many apples?", gold="12", family="math",
                metadata={"distractors": ["7", "16"]})

    def signals(model_id: str):
        graph = Graph("one").node("s", "solver", model_id).build()

        async def go():
            hub = ModelHub(pool, Settings(home=tmp_path / model_id.replace("/", "_"), cache=False))
            try:
                return await CompiledGraph(graph, hub).run(item, seed=4)
            finally:
                await hub.aclose()

        return observe(asyncio.run(go()))

    remote, local = signals(spec.id), signals(SIM_ID)
    assert remote.logprob is not None and remote.logprob < 0
    assert remote.logprob == pytest.approx(local.logprob) and remote.parsable

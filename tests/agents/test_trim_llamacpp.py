"""On a real small-window server (llama.cpp's own, SmolLM2-135M, 2,048 tokens): a reader downstream of three
searchers was sent a prompt longer than the window, and the server refused it (HTTP 400) on every try; with the
evidence trimmed to the window it answers (a question too long by itself:
tests/models/test_context_too_long_advice.py)."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from rolegraph.agents.agent import run_agent
from rolegraph.agents.parsers import format_evidence
from rolegraph.agents.registry import RoleRegistry
from rolegraph.agents.trim import EvidenceTrimmedWarning
from rolegraph.models.openai_backend import OpenAIChatModel
from rolegraph.models.openai_errors import CONTEXT_CAUSE, ModelCallError
from rolegraph.settings import Settings
from rolegraph.transcript import Section

REG = RoleRegistry.default()
QUESTION = "Who discovered penicillin?"
MAX_TOKENS = 8
PROSE = ("Sir Alexander Fleming was a Scottish physician and microbiologist, best known for discovering the world's "
         "first broadly effective antibiotic substance, which he named penicillin. His discovery in 1928 of what was "
         "later named benzylpenicillin from the mould Penicillium rubens is described as the single greatest victory "
         "ever achieved over infectious disease. Fleming also discovered the enzyme lysozyme from his nasal discharge "
         "in 1922, and along with it a bacterium he named Micrococcus lysodeikticus. ")


def _evidence(searcher: int) -> str:
    """Six hits of ~1,000 characters of prose: a searcher's evidence at its largest is ~1,500 tokens."""
    return format_evidence([{"title": f"Fleming {searcher}.{rank}", "url": "", "text": (PROSE * 3)[:1000]}
                            for rank in range(1, 7)])


SECTIONS = [Section(i, f"s{i}", "searcher", _evidence(i)) for i in (1, 2, 3)]


class ModelCaller:
    """The runtime's caller, as far as an agent sees it: one call of the node's model, bound to its plan (its pool
    spec with the window) when `windowed`."""

    def __init__(self, model: OpenAIChatModel, windowed: bool):
        self.model = model
        if windowed:
            self.plan = SimpleNamespace(spec=model.spec, max_tokens=MAX_TOKENS)

    async def __call__(self, messages, tools=None):
        return await self.model.complete(messages, max_tokens=MAX_TOKENS, temperature=0.0)


def _solve(llamacpp, tmp_path, *, windowed: bool, question: str = QUESTION, sections=SECTIONS):
    model = OpenAIChatModel(llamacpp.spec(), Settings(home=tmp_path))
    system = REG.system_prompt("solver", "qa")

    async def main():
        try:
            return await run_agent(REG.get("solver"), system, question, list(sections), ModelCaller(model, windowed),
                                   kind="qa", toolbox=None, tools=(), native=False)
        finally:
            await model.aclose()

    return asyncio.run(main())


def test_evidence_past_the_window_was_refused_and_trimmed_is_answered(llamacpp, tmp_path):
    assert llamacpp.n_ctx == 2048
    with pytest.raises(ModelCallError) as refused:  # before: the whole evidence, no window to fit
        _solve(llamacpp, tmp_path, windowed=False)
    assert refused.value.status == 400 and refused.value.cause == CONTEXT_CAUSE
    with pytest.warns(EvidenceTrimmedWarning, match="context window of 2048 tokens"):
        result = _solve(llamacpp, tmp_path, windowed=True)
    assert result.output.text.strip()  # the server answered
    assert result.trim is not None and result.trim.hits_dropped > 0

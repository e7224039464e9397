"""`rolegraph run`'s `[cut]` lines tell a reply cut by its model's context window (its prompt and itself filled the
window, short of max_tokens: raising max_tokens cannot help) from one cut at max_tokens; a window the pool does not
know, or one the node's calls did not fill, keeps today's max_tokens line. The probe's case: llama.cpp's SmolLM2,
prompt 1842 + completion 206 = 2048, max_tokens 400 (the graph-level test with the model: tests/agents/test_window_cut.py)."""
from __future__ import annotations

import contextlib
import io

from rolegraph.cli.run_output import cut_lines, print_run
from rolegraph.graphs.result import NodeTrace, RunResult
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.pool import ModelPool

S8 = "sim/llama-3.1-8b"
WINDOW = 2048
MAX_TOKENS = 400


def _trace(node: str, tokens_in: int, tokens_out: int, calls: int = 1, cut: int = 1) -> NodeTrace:
    return NodeTrace(id=node, role="solver", model=S8, tokens_in=tokens_in, tokens_out=tokens_out, calls=calls,
                     truncated_calls=cut)


def _pool(window: int) -> ModelPool:
    return ModelPool([s.model_copy(update={"context_window": window}) if s.id == S8 else s
                      for s in ModelPool.builtin()])


def test_run_output_tells_a_window_cut_from_a_max_tokens_cut():
    nodes = [_trace("answer", 1842, 206), _trace("brief", 100, MAX_TOKENS), _trace("mixed", 1842 + 50, 206 + 10, 2)]
    lines = cut_lines(nodes, _pool(WINDOW))
    assert lines[0] == ("[cut] replies cut at max_tokens: brief (1 of 1), mixed (1 of 2); raise the node's "
                        "max_tokens param if it needs the room")
    assert lines[1].startswith("[cut] replies cut by the model's context window")
    assert "answer (1 of 1)" in lines[1] and "brief" not in lines[1] and "will not help" in lines[1]
    assert len(lines) == 2


def test_without_a_known_window_every_cut_keeps_the_max_tokens_line():
    line = "[cut] replies cut at max_tokens: answer (1 of 1); raise the node's max_tokens param if it needs the room"
    assert cut_lines([_trace("answer", 1842, 206)]) == [line]  # no pool
    assert cut_lines([_trace("answer", 1842, 206)], _pool(8192)) == [line]  # a window it did not fill


def test_print_run_prints_the_window_line_given_the_pool():
    spec = GraphSpec.model_validate({"name": "solve1", "output": "answer",
                                     "nodes": [{"id": "answer", "role": "solver", "model": S8}]})
    result = RunResult(graph_name="solve1", answer="7", output_node="answer", nodes=[_trace("answer", 1842, 206)])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        print_run(result, spec, "the question", None, pool=_pool(WINDOW))
    text = " ".join(out.getvalue().split())
    assert "[cut] replies cut by the model's context window" in text and "cut at max_tokens" not in text

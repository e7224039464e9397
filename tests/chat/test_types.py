"""The call contract: finish reasons in the OpenAI API's terms, `Completion`, `Usage`, and that every backend
is a `ChatModel` (the simulator's and the real ones alike)."""
from __future__ import annotations

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import FINISH_REASONS, ChatModel, Completion, Usage, finish_reason_of
from rolegraph.models.hub import make_backend
from rolegraph.settings import Settings


@pytest.mark.parametrize("raw, reason", [(None, "stop"), ("", "stop"), ("stop", "stop"), ("length", "length"),
                                         ("tool_calls", "tool_calls"), ("content_filter", "content_filter"),
                                         ("eos", "stop"), ("max_tokens", "length"), ("function_call", "tool_calls"),
                                         ("abort", "other"), ("STOP", "other"), (7, "other")])
def test_finish_reason_of_any_server_spelling(raw, reason):
    assert finish_reason_of(raw) == reason
    assert reason in FINISH_REASONS


def test_completion_reads_legacy_and_unknown_reasons_and_says_when_it_was_cut():
    assert Completion(text="", model_id="m").finish_reason == "stop"  # rows cached before the field existed
    cut = Completion(text="par", model_id="m", finish_reason="max_tokens")
    assert cut.finish_reason == "length" and cut.truncated
    odd = Completion(text="x", model_id="m", finish_reason="abort")
    assert odd.finish_reason == "other" and not odd.truncated
    assert Completion.model_validate(cut.model_dump()) == cut  # a cached row reads back the same


def test_usage_total_adds_both_ways():
    assert Usage(input_tokens=12, output_tokens=30).total == 42
    assert Usage().total == 0


class _NoComplete:
    model_id = "x"


def test_an_object_without_complete_is_not_a_chat_model():
    assert not isinstance(_NoComplete(), ChatModel)


@pytest.mark.parametrize("spec", [ModelSpec(id="sim/llama-3.2-3b", backend="sim", params_b=3.21, layers=28, hidden=3072),
                                  ModelSpec(id="r/x", backend="openai", base_url="http://127.0.0.1:9/v1"),
                                  ModelSpec(id="local/smollm2-135m", backend="local")],
                         ids=["sim", "openai", "local"])
def test_every_backend_implements_the_contract(spec, tmp_path):
    model = make_backend(spec, Settings(home=tmp_path, cache=False))  # builds the client; calls nothing
    assert isinstance(model, ChatModel)
    assert model.model_id == spec.id


CALL_DEFAULT = 512  # the reply limit of a call that sets none (what it was before it had a name)


def _max_tokens_defaults() -> list[tuple[str, str, str]]:
    """(module, function, default expression) of every `max_tokens` parameter with a default in the package."""
    import ast
    from pathlib import Path

    import rolegraph

    package = Path(rolegraph.__file__).parent
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            args = node.args
            positional = args.posonlyargs + args.args
            pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults))
            pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
            found += [(path.relative_to(package).as_posix(), node.name, d)
                      for a, d in pairs if a.arg == "max_tokens"]
    return found


def test_a_calls_default_max_tokens_is_written_once():
    from rolegraph.chat.types import DEFAULT_CALL_MAX_TOKENS

    assert DEFAULT_CALL_MAX_TOKENS == CALL_DEFAULT
    import ast

    defaults = _max_tokens_defaults()
    named = [(m, f) for m, f, d in defaults if isinstance(d, ast.Name) and d.id == "DEFAULT_CALL_MAX_TOKENS"]
    assert len(named) >= 17  # the contract, the hub's and the cache's wrappers, every backend, the stream
    assert [(m, f, d.value) for m, f, d in defaults if isinstance(d, ast.Constant) and isinstance(d.value, int)] == []


def test_the_contract_and_every_backend_default_to_the_same_limit(tmp_path):
    import inspect

    from rolegraph.models.cache import CachedChatModel
    from rolegraph.models.multi import complete_many
    from rolegraph.models.openai_backend import OpenAIChatModel
    from rolegraph.sim.model import SimChatModel

    for fn in (ChatModel.complete, OpenAIChatModel.complete, OpenAIChatModel.stream, SimChatModel.complete,
               CachedChatModel.complete, CachedChatModel.complete_n, complete_many):
        assert inspect.signature(fn).parameters["max_tokens"].default == CALL_DEFAULT, fn.__qualname__

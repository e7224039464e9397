"""Rolegraph's own warnings reach a command-line user as one `warning: ...` line on stderr each, not as Python's
`path/file.py:123: ContextWindowWarning: ...` followed by the source line; Python callers keep real `warnings`."""
from __future__ import annotations

import json
import warnings

import pytest
import yaml
from fastapi import FastAPI

from rolegraph.sim.server import ServerThread
from tests.cli.support import cli

WORDS = 1500
"""Words of each question: ~1,500 tokens, more than a 2,048-token window holds beside a solver's 1,024."""


def _answering_app(calls: list[dict]) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(body: dict):
        calls.append(body)
        n = body.get("n", 1)
        choices = [{"index": i, "finish_reason": "stop", "message": {"role": "assistant", "content": "Final answer: 4"}}
                   for i in range(n)]
        return {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"], "choices": choices,
                "usage": {"prompt_tokens": 5, "completion_tokens": n, "total_tokens": 5 + n}}

    return app


@pytest.fixture(autouse=True)
def home(fresh_home):
    return fresh_home


def test_a_model_left_out_for_its_window_is_one_warning_line(tmp_path, capsys):
    """A 2,048-token model beside a 32,768-token one, on a task whose questions are ~1,500 words: the search
    leaves the small one out and says so once, as `warning: left out of the search: ...`, with no file path,
    line number or source line of rolegraph's code."""
    data = tmp_path / "long.jsonl"
    data.write_text("".join(json.dumps({"question": "word " * WORDS + f"{k} + {k}?", "answer": f"#### {2 * k}"})
                            + "\n" for k in range(12)))
    calls: list[dict] = []
    with ServerThread(_answering_app(calls)) as srv:
        entry = {"backend": "openai", "base_url": srv.base_url, "price_in": 0.0, "price_out": 0.0,
                 "params_b": 0.135, "layers": 30, "hidden": 576}
        pool = tmp_path / "pool.yaml"
        pool.write_text(yaml.safe_dump({"models": [
            {"id": "my/small", **entry, "model": "small", "context_window": 2048},
            {"id": "my/big", **entry, "model": "big", "context_window": 32768},
        ]}))
        code, _, err = cli(["optimize", "--task", "gsm8k", "--data", data, "--pool", pool,
                            "--models", "my/small,my/big", "--roles", "solver", "--iterations", "1",
                            "--samples", "1", "--batch", "2", "--validation-items", "2", "--test-items", "2",
                            "--route-items", "0", "--out", tmp_path / "run", "--json"], capsys)
    assert code == 0, err
    lines = [line for line in err.splitlines() if "left out of the search" in line]
    assert len(lines) == 1, err
    assert lines[0].startswith("warning: left out of the search: my/small (2048)")
    assert "ContextWindowWarning" not in err and ".py:" not in err and "warnings.warn(" not in err
    assert calls and all(c["model"] == "big" for c in calls)  # the search went on with the big model alone


def test_python_callers_keep_real_warnings_after_the_command(capsys):
    """`main` puts Python's display and filters back when it returns: a warning given afterwards is an ordinary
    Python warning again, which a caller can catch or filter."""
    from rolegraph.optimize.space_context import ContextWindowWarning

    before = (warnings.showwarning, list(warnings.filters))
    code, _, _ = cli(["models"], capsys)
    assert code == 0
    assert (warnings.showwarning, list(warnings.filters)) == before
    with pytest.warns(ContextWindowWarning, match="left out"):
        warnings.warn(ContextWindowWarning("left out"), stacklevel=1)


def _warning_command(monkeypatch, warning: Warning) -> None:
    """`cli.main` whose command gives `warning` and returns."""
    import rolegraph.cli as cli_module

    def command(argv):
        warnings.warn(warning, stacklevel=1)

    monkeypatch.setattr(cli_module, "_main", command)


def test_a_warning_class_of_rolegraph_that_is_a_plain_user_warning_is_one_line_too(monkeypatch, capsys):
    """`ReplacedBuiltinWarning` keeps `UserWarning` as its base (its file is part of the simulator's fingerprint):
    it is rolegraph's all the same, so one line; another package's warning keeps Python's display."""
    from rolegraph.agents.registry import ReplacedBuiltinWarning
    from rolegraph.cli import main, warning_lines

    _warning_command(monkeypatch, ReplacedBuiltinWarning("role 'solver' is replaced"))
    main([])
    err = capsys.readouterr().err
    assert err == "warning: role 'solver' is replaced\n"
    handed: list[type[Warning]] = []
    show = warning_lines(lambda message, category, *rest: handed.append(category))
    show(DeprecationWarning("someone else's"), DeprecationWarning, "x.py", 1)
    assert handed == [DeprecationWarning] and capsys.readouterr().err == ""


def test_the_users_own_filter_stands(monkeypatch, capsys):
    """-W error / PYTHONWARNINGS=ignore (`sys.warnoptions`) are the user's word: the CLI adds no filter over them."""
    import sys

    from rolegraph.cli import main
    from rolegraph.optimize.space_context import ContextWindowWarning

    _warning_command(monkeypatch, ContextWindowWarning("left out of the search: tw/3b (300)"))
    monkeypatch.setattr(sys, "warnoptions", ["error"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ContextWindowWarning):
            main([])
    monkeypatch.setattr(sys, "warnoptions", ["ignore"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        main([])
    assert capsys.readouterr().err == ""

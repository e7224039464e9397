"""A pool entry declaring a larger `context_window` than its server has: the space admits a graph whose prompt the
server (llama.cpp's own, SmolLM2, 1,024 tokens) refuses. The search stops in one line, exit 2, scoring nothing of the
failed step as wrong, with its run directory kept for `--resume`; the line should also say that the model's
declared window is what is wrong, and a resume after correcting it should go on."""
from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path

import pytest

from rolegraph.optimize.rundir import RunStore
from tests.cli.support import cli

N_CTX = 1024
DECLARED = 32768
WORDS = 1500
"""Words of each question: ~1,650 tokens for SmolLM2, over its 1,024 but well inside the declared 32,768."""
MODEL = "llamacpp/smollm2"


@pytest.fixture(scope="module")
def small_llamacpp():
    from rolegraph.errors import EngineMissingError
    from rolegraph.models.llamacpp_server import LlamaCppServer

    try:
        server = LlamaCppServer(threads=1, parallel=2, n_ctx=N_CTX)
    except EngineMissingError as exc:
        pytest.skip(str(exc))
    yield server
    server.close()


def _pool(path: Path, base_url: str, window: int) -> Path:
    path.write_text(f"models:\n  - {{id: {MODEL}, backend: openai, base_url: '{base_url}', model: smollm2, "
                    f"params_b: 0.135, layers: 30, hidden: 576, context_window: {window}, max_concurrency: 2, "
                    "price_in: 1.0, price_out: 2.0}\n")
    return path


@pytest.fixture(scope="module")
def stopped(small_llamacpp, tmp_path_factory):
    """(exit code, stderr, run directory, pool file, data file) of the stopped search; its home is its own."""
    import os

    base = tmp_path_factory.mktemp("refused")
    data = base / "long.jsonl"
    data.write_text("".join(json.dumps({"question": "word " * WORDS + f"{k} + {k}?", "answer": f"#### {2 * k}"})
                            + "\n" for k in range(12)))
    pool = _pool(base / "pool.yaml", small_llamacpp.base_url, DECLARED)
    run = base / "run"
    old = os.environ.get("ROLEGRAPH_HOME")
    os.environ["ROLEGRAPH_HOME"] = str(base / "home")
    try:
        code, err = _optimize(["--task", "gsm8k", "--data", data, "--pool", pool, "--roles", "solver",
                               "--max-nodes", "1", "--iterations", "1", "--samples", "1", "--batch", "2",
                               "--validation-items", "2", "--test-items", "2", "--route-items", "0", "--out", run])
    finally:
        if old is None:
            os.environ.pop("ROLEGRAPH_HOME", None)
        else:
            os.environ["ROLEGRAPH_HOME"] = old
    return code, err, run, pool, base


def _optimize(args: list) -> tuple[int, str]:
    import contextlib
    import io

    from rolegraph.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main(["optimize", *map(str, args)])
            code = 0
        except SystemExit as exc:
            code = exc.code or 0
    return code, err.getvalue()


def _error_line(err: str) -> str:
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    return errors[0]


def test_the_refused_prompt_stops_the_search_in_one_line_with_nothing_scored(stopped):
    code, err, run, _, _ = stopped
    line = _error_line(err)
    assert code == 2
    assert f"model '{MODEL}' call failed: HTTP 400: context exceeded" in line
    assert f"({N_CTX} tokens)" in line
    with closing(RunStore.open(run)) as store:  # the failed step recorded no outcome: its items were not scored as wrong
        assert store.records() == []


def test_the_stop_names_the_declared_window_as_wrong(stopped):
    line = _error_line(stopped[1])
    assert f"context window {DECLARED} is wrong for this server" in line
    assert f"set context_window to {N_CTX} in the pool file" in line


def test_the_stop_says_to_start_again_not_to_resume(stopped, small_llamacpp, monkeypatch):
    """A resume refuses a changed pool file (its stored outcomes belong to the old one), so the stop does not send
    the user to --resume after correcting the window: it says to start again, the answered calls being free."""
    line = _error_line(stopped[1])
    assert "correct the model's context_window in the pool file and start the search again" in line
    assert "continue with --resume" not in line
    _, _, run, pool, base = stopped
    monkeypatch.setenv("ROLEGRAPH_HOME", str(base / "home"))
    _pool(pool, small_llamacpp.base_url, N_CTX)
    code, err = _optimize(["--resume", run])  # what the advice spares the user: a resume is refused
    assert code == 2 and "changed since the run read it" in err

"""A search the context check refuses says so before its dollar estimate, not after it: the estimate priced a
search that never ran (`rolegraph optimize` printed `dollars ~$2.44`, then `error: no graph of the search space
fits its model's context window`). The model is a real (openai) entry on a loopback port nothing listens on: its
window is declared, so no server is asked, and the refusal comes before any call; the estimate is printed for real
endpoints only, so a sim model would not show the order."""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

from rolegraph.cli import main

MODEL = "llc/tiny"


def _pool(path: Path, window: int) -> Path:
    path.write_text(f"models:\n  - {{id: {MODEL}, backend: openai, base_url: 'http://127.0.0.1:9/v1', model: tiny, "
                    f"params_b: 0.135, layers: 30, hidden: 576, price_in: 50.0, price_out: 100.0, "
                    f"context_window: {window}, max_concurrency: 2}}\n")
    return path


def _data(path: Path, words: int) -> Path:
    path.write_text("".join(json.dumps({"id": f"q{k}", "question": "word " * words + f"{k} + {k}?",
                                        "answer": str(2 * k)}) + "\n" for k in range(12)))
    return path


def _optimize(tmp_path: Path, monkeypatch, window: int, words: int) -> tuple[int, str]:
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    args = ["optimize", "--task", "jsonl", "--data", _data(tmp_path / "q.jsonl", words), "--task-option",
            "family=math", "--pool", _pool(tmp_path / "pool.yaml", window), "--models", MODEL, "--roles",
            "solver,fuser", "--max-nodes", "3", "--budget", "1", "--iterations", "1", "--samples", "2", "--batch", "2",
            "--validation-items", "2", "--test-items", "2", "--route-items", "0", "--max-dollars", "0.0001", "--out", tmp_path / "run"]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code or 0
    return code, err.getvalue()


def test_a_search_no_graph_of_which_fits_is_refused_with_no_estimate_and_no_run_directory(tmp_path, monkeypatch):
    code, err = _optimize(tmp_path, monkeypatch, window=2048, words=1500)  # ~1,500+ tokens of question alone
    assert code == 2
    assert "error: no graph of the search space fits its model's context window" in err
    assert "estimate before the search" not in err and "dollars" not in err
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_a_search_that_fits_still_prints_its_estimate_first(tmp_path, monkeypatch):
    """The same search with short questions passes the check and prints its estimate (then fails at its first call:
    nothing listens on the port), so the check added before the estimate does not silence it."""
    code, err = _optimize(tmp_path, monkeypatch, window=2048, words=5)
    assert "estimate before the search" in err
    assert "no graph of the search space fits" not in err

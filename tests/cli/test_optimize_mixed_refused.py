"""A search over simulated and real models together is refused before anything runs or is printed: its graphs
would feed a sim node's output (derived from the item's gold answer) to a real endpoint (graphs/gold_guard)."""
from __future__ import annotations

from tests.cli.support import cli

POOL = "models:\n  - {id: my/x, backend: openai, base_url: 'http://127.0.0.1:9/v1', model: x, params_b: 1.0, layers: 16, hidden: 2048}\n"


def test_a_mixed_search_is_one_line_before_any_estimate_or_run_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    pool = tmp_path / "pool.yaml"
    pool.write_text(POOL)
    out = tmp_path / "run"
    code, stdout, err = cli(["optimize", "--task", "gsm", "--pool", pool, "--models", "my/x,sim/llama-3.2-1b",
                             "--iterations", "1", "--out", out], capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert "mixes simulated models (sim/llama-3.2-1b) with real ones (my/x)" in err
    assert stdout == "" and not out.exists()


def test_searches_over_one_kind_are_not_refused_by_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    code, _, err = cli(["optimize", "--task", "gsm", "--models", "sim/llama-3.2-1b,sim/llama-3.2-3b",
                        "--iterations", "1", "--samples", "2", "--batch", "2", "--validation-items", "2",
                        "--test-items", "2", "--route-items", "0", "--out", tmp_path / "run"], capsys)
    assert code == 0, err

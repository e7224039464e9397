"""A cap no graph met is said in the printed result, the JSON summary and report.md, not passed off as a success;
a space file's unknown model is named with the file and the stage."""
from __future__ import annotations

import json

from tests.cli.test_route_cmd import cli

TINY = ["--task-size", "160", "--samples", "2", "--batch", "4", "--validation-items", "4", "--test-items", "20",
        "--iterations", "2", "--route-items", "0", "--budget", "42"]


def test_an_impossible_latency_cap_is_said_everywhere(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = cli(["optimize", "--task", "gsm", "--latency-cap", "0.5", "--out", tmp_path / "run", *TINY], capsys)
    assert code == 0, err
    assert "no graph met the latency cap of 0.5 s (best: " in out
    assert "> **no graph met the latency cap of 0.5 s (best: " in (tmp_path / "run" / "report.md").read_text()
    code, out, err = cli(["optimize", "--task", "gsm", "--latency-cap", "1000", "--out", tmp_path / "ok", "--json",
                          *TINY], capsys)
    assert code == 0, err
    assert json.loads(out)["cap_miss"] is None
    assert "no graph met" not in (tmp_path / "ok" / "report.md").read_text()


def test_an_unknown_model_in_a_space_file_names_the_file_and_the_stage(tmp_path, capsys):
    space = tmp_path / "space.yaml"
    space.write_text("stages:\n  - {name: search, role: searcher, models: [sim/llama-3.2-3bb], width: [1, 2]}\n"
                     "output: {roles: [fuser], models: [sim/llama-3.1-8b]}\n")
    code, _, err = cli(["optimize", "--task", "gsm", "--space", space, "--out", tmp_path / "run"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert f"{space}: stage 1 ('search'): unknown model 'sim/llama-3.2-3bb'." in err

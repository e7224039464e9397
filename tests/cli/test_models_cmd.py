"""`rolegraph models`: in-process (CliRunner and main) and once as a real subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from rolegraph.cli import build_app, main
from rolegraph.settings import HOME_ENV, POOL_ENV

BUILTIN_IDS = {"sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b", "sim/llama-3.1-70b",
               "local/smollm2-135m", "openai/gpt-4o-mini"}


@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    monkeypatch.delenv(POOL_ENV, raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return tmp_path


def test_models_json_lists_builtins_with_usability(clean_env):
    result = CliRunner().invoke(build_app(), ["models", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert BUILTIN_IDS <= set(rows)
    sim = rows["sim/llama-3.2-3b"]
    assert sim["backend"] == "sim" and sim["simulated"] and sim["usable"] and sim["params_b"] > 0
    gpt = rows["openai/gpt-4o-mini"]
    assert not gpt["usable"] and "OPENAI_API_KEY" in gpt["reason"] and not gpt["simulated"]
    assert gpt["price_out"] > gpt["price_in"] > 0
    local = rows["local/smollm2-135m"]
    assert isinstance(local["usable"], bool) and (local["usable"] or local["reason"])


def test_models_key_present_makes_openai_usable(clean_env, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "dummy-not-a-key")
    rows = {r["id"]: r for r in json.loads(CliRunner().invoke(build_app(), ["models", "--json"]).stdout)}
    assert rows["openai/gpt-4o-mini"]["usable"] and rows["openai/gpt-4o-mini"]["reason"] == ""
    assert "dummy-not-a-key" not in json.dumps(rows)


def test_models_table_labels_sim_as_simulated(clean_env):
    result = CliRunner().invoke(build_app(), ["models"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "sim/llama-3.1-70b" in result.stdout and "simulated" in result.stdout


def test_models_table_into_a_pipe_is_printed_whole(clean_env, monkeypatch):
    """Not a terminal and no COLUMNS: rich would lay the table out for 80 columns and cut the ids."""
    monkeypatch.delenv("COLUMNS", raising=False)
    result = CliRunner().invoke(build_app(), ["models"])
    assert result.exit_code == 0
    assert "…" not in result.stdout
    assert all(i in result.stdout for i in BUILTIN_IDS) and "set OPENAI_API_KEY" in result.stdout


def test_models_table_on_an_80_column_terminal_keeps_ids_whole(clean_env, monkeypatch, capsys):
    from rich.console import Console

    from rolegraph.cli import tables

    monkeypatch.setattr(tables, "Console", lambda: Console(width=80, force_terminal=True, color_system=None))
    main(["models"])
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert all(i in out for i in BUILTIN_IDS) and "OPENAI" in out


def test_models_pool_file_is_merged(clean_env):
    pool = clean_env / "pool.yaml"
    pool.write_text("models:\n  - {id: my/model, backend: openai, base_url: 'http://127.0.0.1:1/v1', params_b: 7}\n")
    rows = {r["id"]: r for r in json.loads(CliRunner().invoke(build_app(), ["models", "--json", "--pool", str(pool)]).stdout)}
    assert rows["my/model"]["usable"] and BUILTIN_IDS <= set(rows)


def test_models_bad_pool_file_is_one_line_exit_2(clean_env, capsys):
    pool = clean_env / "bad.yaml"
    pool.write_text("models:\n  - {id: my/model, backend: openai, price_in: lots}\n")
    with pytest.raises(SystemExit) as exit_:
        main(["models", "--pool", str(pool)])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2
    assert len(err.splitlines()) == 1 and str(pool) in err and "price_in" in err and "my/model" in err


def test_models_json_as_a_subprocess(clean_env):
    env = {**os.environ, HOME_ENV: str(clean_env / "home")}
    env.pop(POOL_ENV, None)
    proc = subprocess.run([sys.executable, "-m", "rolegraph", "models", "--json"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert BUILTIN_IDS <= {r["id"] for r in json.loads(proc.stdout)}


def test_models_table_says_key_set_not_usable_and_where_openai_entries_go(clean_env):
    """It does not contact endpoints, so it claims no more than that a key is set; a built-in openai/* entry
    (no base_url) is shown going to OpenAI's own API."""
    result = CliRunner().invoke(build_app(), ["models"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    header = next(line for line in result.stdout.splitlines() if "backend" in line)
    assert "key set" in header and "usable" not in header
    assert "no endpoint is contacted" in result.stdout
    gpt = next(line for line in result.stdout.splitlines() if "openai/gpt-4o-mini" in line)
    assert "https://api.openai.com/v1" in gpt and "set OPENAI_API_KEY" in gpt
    rows = {r["id"]: r for r in json.loads(CliRunner().invoke(build_app(), ["models", "--json"]).stdout)}
    assert rows["openai/gpt-4o-mini"]["endpoint"] == "https://api.openai.com/v1"
    assert rows["openai/gpt-4o-mini"]["key_set"] is False and rows["sim/llama-3.2-1b"]["key_set"] is None


@pytest.mark.parametrize("entry, needles", [
    ("{id: x/y, backend: openai}", ["x/y", "base_url", "required"]),
    ("{id: x/y, backend: openai, base_url: '127.0.0.1:18003/v1'}", ["x/y", "base_url", "http://"]),
    ("{id: x/y, backend: openai, base_url: 'http://127.0.0.1:9/v1', api_key_env: 'sk-abc123secretvalue'}",
     ["x/y", "api_key_env", "NAME of an environment variable"]),
])
def test_models_refuses_an_unusable_openai_entry_in_one_line_exit_2(clean_env, capsys, entry, needles):
    pool = clean_env / "bad.yaml"
    pool.write_text(f"models:\n  - {entry}\n")
    with pytest.raises(SystemExit) as exit_:
        main(["models", "--pool", str(pool)])
    out, err = capsys.readouterr()
    assert exit_.value.code == 2 and len(err.strip().splitlines()) == 1
    assert all(n in err for n in needles) and "abc123" not in err + out
